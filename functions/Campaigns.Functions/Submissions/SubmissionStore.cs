using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Submissions;

/// <summary>
/// One table, partitions by purpose (each read is one partition):
/// <c>c|{campaign}</c> the entries (source of truth, row = entry id);
/// <c>f|{fan}</c> the fan's copy of each entry (row = campaign|entry) for "my submissions";
/// <c>g|{campaign}</c> the public gallery (row = newest-first time|entry, public fields only);
/// <c>x|{shard}</c> open upload slots by expiry (row = expiry ticks|campaign|entry) for the cleanup timer;
/// <c>lq|{campaign}</c> approved labels waiting for a print batch; <c>lb|{campaign}</c> print batches;
/// <c>set|{campaign}</c> per-campaign settings and the label template; <c>lc</c> campaigns that have labels.
/// Copies are written after the entry and repaired by writing the entry again: every write is an upsert.
/// </summary>
public sealed class SubmissionStore(StorageClients storage)
{
    public const string TableName = "submissions";
    public const int SlotShards = 4;
    private TableClient Table => storage.Table(TableName);

    public static string EntryPartition(string campaignId) => "c|" + campaignId;
    public static string FanPartition(string fanId) => "f|" + TableKeys.Escape(fanId);
    public static string GalleryPartition(string campaignId) => "g|" + campaignId;
    public static string GalleryRow(Entry e) => TableKeys.NewestFirst(e.SubmittedAt ?? e.CreatedAt) + "|" + e.EntryId;
    public static string SlotPartition(string entryId) => "x|" + (uint)StableHash(entryId) % SlotShards;
    public static string SlotRow(Entry e) => e.Upload!.ExpiresAt.UtcTicks.ToString("D19") + "|" + e.CampaignId + "|" + e.EntryId;

    public async Task<(Entry Entry, ETag ETag)?> GetAsync(string campaignId, string entryId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(EntryPartition(campaignId), entryId, ["Doc"], ct);
        return r.HasValue && r.Value is not null ? (Read<Entry>(r.Value), r.Value.ETag) : null;
    }

    /// <summary>Creates a new entry (409 if the id exists), its fan copy and, for uploads, its slot row.</summary>
    public async Task CreateAsync(Entry e, CancellationToken ct)
    {
        // Slot row first: if the process dies after it, the cleanup timer finds no entry or an expired one; nothing leaks.
        if (e.Status == Statuses.AwaitingUpload && e.Upload is not null)
            await Table.UpsertEntityAsync(new TableEntity(SlotPartition(e.EntryId), SlotRow(e)), TableUpdateMode.Replace, ct);
        await Table.AddEntityAsync(Doc(EntryPartition(e.CampaignId), e.EntryId, e, e), ct);
        await WriteCopiesAsync(e, ct);
    }

    /// <summary>Replaces the entry if it still has the ETag read (412 → <see cref="RequestFailedException"/>), then its copies.</summary>
    public async Task<ETag> ReplaceAsync(Entry e, ETag ifMatch, CancellationToken ct)
    {
        var r = await Table.UpdateEntityAsync(Doc(EntryPartition(e.CampaignId), e.EntryId, e, e), ifMatch, TableUpdateMode.Replace, ct);
        await WriteCopiesAsync(e, ct);
        return r.Headers.ETag ?? default;
    }

    /// <summary>Reads, applies <paramref name="change"/> and replaces with the ETag, retrying on a concurrent write. Null: no such entry.</summary>
    public async Task<Entry?> UpdateAsync(string campaignId, string entryId, Func<Entry, Entry?> change, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await GetAsync(campaignId, entryId, ct) is not { } found) return null;
            var next = change(found.Entry);
            if (next is null || next == found.Entry) return found.Entry;
            try
            {
                await ReplaceAsync(next, found.ETag, ct);
                return next;
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 5) { }
        }
    }

    /// <summary>
    /// Rewrites the copies (fan copy, gallery row, label waiting row) of an entry as read: for a caller that finds them
    /// stale, e.g. a label still waiting although a batch claimed it before its process died between the two writes.
    /// </summary>
    public Task RepairCopiesAsync(Entry e, CancellationToken ct) => WriteCopiesAsync(e, ct);

    private async Task WriteCopiesAsync(Entry e, CancellationToken ct)
    {
        await Table.UpsertEntityAsync(Doc(FanPartition(e.OwnerFanId), e.CampaignId + "|" + e.EntryId, e, e), TableUpdateMode.Replace, ct);
        var gallery = GalleryPartition(e.CampaignId);
        if (e.InGallery)
            await Table.UpsertEntityAsync(Doc(gallery, GalleryRow(e), e, e), TableUpdateMode.Replace, ct);
        else
            await IgnoreMissing(Table.DeleteEntityAsync(gallery, GalleryRow(e), ETag.All, ct));
        // The slot row stays after "complete": the SAS is valid until expiry, and the cleanup timer then deletes whatever the fan left.
        if (e.Kind == Kinds.Label)
        {
            var waiting = e.Status == Statuses.Approved && !e.OwnerHidden && e.Order?.BatchId is null;
            if (waiting)
                await Table.UpsertEntityAsync(new TableEntity(LabelQueuePartition(e.CampaignId), e.EntryId), TableUpdateMode.Replace, ct);
            else
                await IgnoreMissing(Table.DeleteEntityAsync(LabelQueuePartition(e.CampaignId), e.EntryId, ETag.All, ct));
        }
    }

    public async Task<(List<Entry> Items, string? Next)> ListOwnAsync(string fanId, string? campaignId, int pageSize, string? continuation, CancellationToken ct)
    {
        var pk = FanPartition(fanId);
        var filter = campaignId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {pk}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {campaignId + "|"} and RowKey lt {campaignId + "}"}");
        return await QueryPage<Entry>(filter, pageSize, continuation, ct);
    }

    public Task<(List<Entry> Items, string? Next)> GalleryAsync(string campaignId, int pageSize, string? continuation, CancellationToken ct)
        => QueryPage<Entry>(TableClient.CreateQueryFilter($"PartitionKey eq {GalleryPartition(campaignId)}"), pageSize, continuation, ct);

    public async IAsyncEnumerable<Entry> AllGalleryAsync(string campaignId, [EnumeratorCancellation] CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {GalleryPartition(campaignId)}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["Doc"], cancellationToken: ct)) yield return Read<Entry>(e);
    }

    public async IAsyncEnumerable<Entry> OwnInCampaignAsync(string fanId, string campaignId, [EnumeratorCancellation] CancellationToken ct)
    {
        var pk = FanPartition(fanId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {campaignId + "|"} and RowKey lt {campaignId + "}"}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["Doc"], cancellationToken: ct)) yield return Read<Entry>(e);
    }

    /// <summary>Open slots whose expiry is before <paramref name="now"/>, as (campaign, entry) pairs, across the shards.</summary>
    public async Task<List<(string CampaignId, string EntryId, string Row, string Partition)>> ExpiredSlotsAsync(DateTimeOffset now, int max, CancellationToken ct)
    {
        var found = new List<(string, string, string, string)>();
        for (var shard = 0; shard < SlotShards && found.Count < max; shard++)
        {
            var pk = "x|" + shard;
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey lt {now.UtcTicks.ToString("D19")}");
            await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: ct))
            {
                var parts = e.RowKey.Split('|');
                if (parts.Length == 3) found.Add((parts[1], parts[2], e.RowKey, pk));
                if (found.Count >= max) break;
            }
        }
        return found;
    }

    public Task DeleteSlotRowAsync(string partition, string row, CancellationToken ct) => IgnoreMissing(Table.DeleteEntityAsync(partition, row, ETag.All, ct));

    // Settings, label templates and print batches: small JSON documents.
    public static string SettingsPartition(string campaignId) => "set|" + campaignId;
    public static string LabelQueuePartition(string campaignId) => "lq|" + campaignId;
    public static string BatchPartition(string campaignId) => "lb|" + campaignId;
    /// <summary>Idempotency-Keys of print-batch requests → the batch each made.</summary>
    public static string BatchKeyPartition(string campaignId) => "lk|" + campaignId;
    public const string LabelCampaignsPartition = "lc";

    public async Task<T?> GetDocAsync<T>(string pk, string rk, CancellationToken ct) where T : class
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, ["Doc"], ct);
        return r.HasValue && r.Value is not null ? Read<T>(r.Value) : null;
    }

    public Task PutDocAsync<T>(string pk, string rk, T doc, CancellationToken ct)
        => Table.UpsertEntityAsync(Doc(pk, rk, doc, null), TableUpdateMode.Replace, ct);

    /// <summary>Insert-if-absent: false when the row exists.</summary>
    public async Task<bool> TryAddDocAsync<T>(string pk, string rk, T doc, CancellationToken ct)
    {
        try { await Table.AddEntityAsync(Doc(pk, rk, doc, null), ct); return true; }
        catch (RequestFailedException e) when (e.Status == 409) { return false; }
    }

    public async Task<List<string>> RowKeysAsync(string pk, int max, CancellationToken ct)
    {
        var keys = new List<string>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), select: ["RowKey"], cancellationToken: ct))
        {
            keys.Add(e.RowKey);
            if (keys.Count >= max) break;
        }
        return keys;
    }

    public async Task<List<T>> DocsAsync<T>(string pk, int max, CancellationToken ct)
    {
        var docs = new List<T>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), select: ["Doc"], cancellationToken: ct))
        {
            docs.Add(Read<T>(e));
            if (docs.Count >= max) break;
        }
        return docs;
    }

    public Task<ListPage<T>> DocsPageAsync<T>(string pk, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), pageSize, continuation, Read<T>, ct, ["Doc"]);

    public Task MarkRowAsync(string pk, string rk, CancellationToken ct)
        => Table.UpsertEntityAsync(new TableEntity(pk, rk), TableUpdateMode.Replace, ct);

    private async Task<(List<T> Items, string? Next)> QueryPage<T>(string filter, int pageSize, string? continuation, CancellationToken ct)
    {
        var page = await Table.PageAsync(filter, pageSize, continuation, Read<T>, ct, ["Doc"]);
        return (page.Items.ToList(), page.Continuation);
    }

    private static TableEntity Doc<T>(string pk, string rk, T doc, Entry? e)
    {
        var entity = new TableEntity(pk, rk) { ["Doc"] = JsonSerializer.Serialize(doc, JsonDefaults.Options) };
        if (e is not null) { entity["Status"] = e.Status; entity["Kind"] = e.Kind; }
        return entity;
    }

    private static T Read<T>(TableEntity e)
        => JsonSerializer.Deserialize<T>(e.GetString("Doc"), JsonDefaults.Options)
           ?? throw new InvalidDataException($"Row {e.PartitionKey}/{e.RowKey} has an empty document.");

    private static async Task IgnoreMissing(Task task)
    {
        try { await task; }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in s) h = (h ^ c) * 16777619;
            return h;
        }
    }
}
