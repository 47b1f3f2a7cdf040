using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Judging;

/// <summary>
/// Campaign partition "j|{campaign}": setup, conflicts (conf|judge|entry), rounds (round|id), the hybrid declaration.
/// Round partition "r|{campaign}|{round}": entries (e|entry), balanced assignments (as|judge) and scores (s|judge|entry),
/// so closing a round reads one partition and round set-up writes it in 100-entity transactions.
/// </summary>
public sealed class JudgingStore(StorageClients storage)
{
    public const string TableName = "judging";
    private TableClient Table => storage.Table(TableName);

    private static string CampaignPk(string c) => "j|" + c;
    private static string RoundPk(string c, string r) => $"r|{c}|{r}";
    private static string J(string judge) => TableKeys.Escape(judge);

    public Task<JudgingSetup?> GetSetupAsync(string c, CancellationToken ct) => Get<JudgingSetup>(CampaignPk(c), "setup", ct);
    public Task SaveSetupAsync(JudgingSetup s, CancellationToken ct) => Put(CampaignPk(s.CampaignId), "setup", s, ct);

    /// <summary>Records a conflict once: a repeat keeps the first declaration (and its instant), which is returned.</summary>
    public async Task<Conflict> AddConflictAsync(Conflict c, CancellationToken ct)
    {
        var rk = $"conf|{J(c.JudgeId)}|{c.EntryId}";
        try
        {
            await Table.AddEntityAsync(Entity(CampaignPk(c.CampaignId), rk, c), ct);
            return c;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return await Get<Conflict>(CampaignPk(c.CampaignId), rk, ct) ?? c;
        }
    }

    public Task<List<Conflict>> ConflictListAsync(string c, CancellationToken ct) => Range<Conflict>(CampaignPk(c), "conf|", ct);

    public async Task<HashSet<(string, string)>> ConflictsAsync(string c, CancellationToken ct)
        => (await ConflictListAsync(c, ct)).Select(x => (x.JudgeId, x.EntryId)).ToHashSet();

    public Task<Round?> GetRoundAsync(string c, string r, CancellationToken ct) => Get<Round>(CampaignPk(c), "round|" + r, ct);
    public Task<List<Round>> RoundsAsync(string c, CancellationToken ct) => Range<Round>(CampaignPk(c), "round|", ct);

    public async Task<bool> InsertRoundAsync(Round round, CancellationToken ct)
    {
        try
        {
            await Table.AddEntityAsync(Entity(CampaignPk(round.CampaignId), "round|" + round.Id, round), ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task<(Round Round, ETag ETag)?> GetRoundForUpdateAsync(string c, string r, CancellationToken ct)
    {
        var x = await Table.GetEntityIfExistsAsync<TableEntity>(CampaignPk(c), "round|" + r, ["Doc"], ct);
        return x.HasValue && x.Value is { } e ? (Read<Round>(e), e.ETag) : null;
    }

    /// <summary>Replaces the round at the ETag read; the new ETag, or null when someone changed it meanwhile.</summary>
    public async Task<ETag?> TryReplaceRoundAsync(Round round, ETag ifMatch, CancellationToken ct)
    {
        try
        {
            return (await Table.UpdateEntityAsync(Entity(CampaignPk(round.CampaignId), "round|" + round.Id, round), ifMatch, TableUpdateMode.Replace, ct)).Headers.ETag;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return null;
        }
    }

    // A string or binary property holds at most 64 KiB: a snapshot is split into numbered rows named by its hash.
    private const int SnapshotChunk = 60_000;

    /// <summary>
    /// Stores a results snapshot as rows "snap|{sha}|{n}" of the round's partition. Named by content, so a retry writes the
    /// same rows; it is referenced (Round.ResultsSha256) only after every row is written.
    /// </summary>
    public async Task SaveSnapshotAsync(string c, string r, string sha, byte[] bytes, CancellationToken ct)
    {
        var pk = RoundPk(c, r);
        var rows = bytes.Chunk(SnapshotChunk).Select((part, i) => new TableEntity(pk, $"snap|{sha}|{i:D5}") { ["Bytes"] = part });
        foreach (var batch in rows.Chunk(100))
            await Table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct);
    }

    public async Task<byte[]?> GetSnapshotAsync(string c, string r, string sha, CancellationToken ct)
    {
        var prefix = $"snap|{sha}|";
        var to = prefix[..^1] + (char)(prefix[^1] + 1);
        using var bytes = new MemoryStream();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {RoundPk(c, r)} and RowKey ge {prefix} and RowKey lt {to}"), 1000, ["Bytes"], ct))
            bytes.Write(e.GetBinary("Bytes"));
        return bytes.Length == 0 ? null : bytes.ToArray();
    }

    /// <summary>Deletes the rows of a snapshot no round refers to any more (an erasure rewrote it under a new hash).</summary>
    public async Task DeleteSnapshotAsync(string c, string r, string sha, CancellationToken ct)
    {
        var prefix = $"snap|{sha}|";
        var to = prefix[..^1] + (char)(prefix[^1] + 1);
        var rows = new List<string>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {RoundPk(c, r)} and RowKey ge {prefix} and RowKey lt {to}"), 1000, ["RowKey"], ct))
            rows.Add(e.RowKey);
        foreach (var rk in rows)
        {
            try { await Table.DeleteEntityAsync(RoundPk(c, r), rk, ETag.All, ct); }
            catch (RequestFailedException e) when (e.Status == 404) { }
        }
    }

    /// <summary>Entries and assignments of a round, upserted in 100-entity transactions within its partition (safe to repeat).</summary>
    public async Task SaveRoundDataAsync(string c, string r, IReadOnlyList<RoundEntry> entries, Dictionary<string, List<string>>? assignments, CancellationToken ct)
    {
        var pk = RoundPk(c, r);
        var all = entries.Select(e => Entity(pk, "e|" + e.EntryId, e))
            .Concat((assignments ?? []).Select(kv => Entity(pk, "as|" + J(kv.Key), kv.Value)));
        foreach (var chunk in all.Chunk(100))
            await Table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct);
    }

    public Task<List<RoundEntry>> EntriesAsync(string c, string r, CancellationToken ct) => Range<RoundEntry>(RoundPk(c, r), "e|", ct);
    public Task<RoundEntry?> GetEntryAsync(string c, string r, string entryId, CancellationToken ct) => Get<RoundEntry>(RoundPk(c, r), "e|" + entryId, ct);
    public Task<List<string>?> AssignmentAsync(string c, string r, string judge, CancellationToken ct) => Get<List<string>>(RoundPk(c, r), "as|" + J(judge), ct);

    public async Task<Dictionary<string, List<string>>> AssignmentsAsync(string c, Round round, IReadOnlyList<RoundEntry> entries, CancellationToken ct)
    {
        if (round.Assignment == AssignmentMode.All) return round.Judges.ToDictionary(j => j, _ => entries.Select(e => e.EntryId).ToList());
        var result = new Dictionary<string, List<string>>();
        foreach (var j in round.Judges) result[j] = await AssignmentAsync(c, round.Id, j, ct) ?? [];
        return result;
    }

    public Task SaveScoreAsync(string c, string r, Score s, CancellationToken ct) => Put(RoundPk(c, r), $"s|{J(s.JudgeId)}|{s.EntryId}", s, ct);
    public Task<Score?> GetScoreAsync(string c, string r, string judge, string entryId, CancellationToken ct) => Get<Score>(RoundPk(c, r), $"s|{J(judge)}|{entryId}", ct);
    public Task<List<Score>> ScoresAsync(string c, string r, CancellationToken ct) => Range<Score>(RoundPk(c, r), "s|", ct);
    public Task<List<Score>> JudgeScoresAsync(string c, string r, string judge, CancellationToken ct) => Range<Score>(RoundPk(c, r), $"s|{J(judge)}|", ct);

    public Task<HybridDeclaration?> GetHybridAsync(string c, CancellationToken ct) => Get<HybridDeclaration>(CampaignPk(c), "hybrid", ct);

    public async Task<(HybridDeclaration Declaration, ETag ETag)?> GetHybridForUpdateAsync(string c, CancellationToken ct)
    {
        var x = await Table.GetEntityIfExistsAsync<TableEntity>(CampaignPk(c), "hybrid", ["Doc"], ct);
        return x.HasValue && x.Value is { } e ? (Read<HybridDeclaration>(e), e.ETag) : null;
    }

    /// <summary>Inserts (no ETag) or replaces at the ETag read; false when another declaration got there first.</summary>
    public async Task<bool> TrySaveHybridAsync(HybridDeclaration h, ETag? ifMatch, CancellationToken ct)
    {
        var entity = Entity(CampaignPk(h.CampaignId), "hybrid", h);
        try
        {
            if (ifMatch is { } tag) await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct);
            else await Table.AddEntityAsync(entity, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    private async Task<T?> Get<T>(string pk, string rk, CancellationToken ct) where T : class
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, ["Doc"], ct);
        return r.HasValue && r.Value is { } e ? Read<T>(e) : null;
    }

    private Task Put<T>(string pk, string rk, T doc, CancellationToken ct) => Table.UpsertEntityAsync(Entity(pk, rk, doc), TableUpdateMode.Replace, ct);

    private async Task<List<T>> Range<T>(string pk, string prefix, CancellationToken ct)
    {
        var to = prefix[..^1] + (char)(prefix[^1] + 1);
        var list = new List<T>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {prefix} and RowKey lt {to}"), 1000, ["Doc"], ct))
            list.Add(Read<T>(e));
        return list;
    }

    private static TableEntity Entity<T>(string pk, string rk, T doc) => new(pk, rk) { ["Doc"] = JsonSerializer.Serialize(doc, JsonDefaults.Options) };
    private static T Read<T>(TableEntity e) => JsonSerializer.Deserialize<T>(e.GetString("Doc"), JsonDefaults.Options)!;
}
