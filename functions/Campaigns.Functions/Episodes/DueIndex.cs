using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace Campaigns.Episodes;

/// <summary>Something due at an instant: a scheduled episode ("episode", its id) or a phase ("phase", its kind).</summary>
public sealed record DueItem(string CampaignId, string Type, string Target, DateTimeOffset DueAt)
{
    public const string Episode = "episode", Phase = "phase";
    public string Bucket => DueIndex.Bucket(DueAt);
    public string RowKey => $"{DueAt.UtcTicks:D19}|{CampaignId}|{Type}|{Target}";
}

/// <summary>
/// The scheduler's index of what falls due, written when something is scheduled: one partition per UTC hour,
/// rows ordered by due instant. Each minute the scheduler reads only the hours between its cursor (the oldest
/// hour that may still hold unfinished items) and now, never the episodes themselves. Entries are hints: the
/// scheduler re-reads the episode or campaign and drops entries that no longer match (moved, cancelled).
/// </summary>
public sealed class DueIndex(Platform.StorageClients storage, IOptions<EpisodesOptions> options)
{
    private const string CursorPartition = "cursor", CursorRow = "scheduler", RetryPartition = "retry";
    private TableClient Table => storage.Table(options.Value.DueTable);

    public static string Bucket(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
    public static DateTimeOffset HourStart(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, at.UtcDateTime.Day, at.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);

    public Task PutAsync(DueItem item, CancellationToken ct) => Table.UpsertEntityAsync(new TableEntity(item.Bucket, item.RowKey)
    {
        ["CampaignId"] = item.CampaignId, ["Type"] = item.Type, ["Target"] = item.Target, ["DueAt"] = item.DueAt,
    }, TableUpdateMode.Replace, ct);

    /// <summary>The hour's entries due at or before <paramref name="upTo"/>, in due order.</summary>
    public async Task<List<DueItem>> DueAsync(DateTimeOffset hour, DateTimeOffset upTo, CancellationToken ct)
    {
        var bucket = Bucket(hour);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {bucket} and RowKey lt {(upTo.UtcTicks + 1).ToString("D19", CultureInfo.InvariantCulture)}");
        var list = new List<DueItem>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
            list.Add(new DueItem(e.GetString("CampaignId"), e.GetString("Type"), e.GetString("Target"), e.GetDateTimeOffset("DueAt")!.Value));
        return list;
    }

    public async Task DeleteAsync(DueItem item, CancellationToken ct)
    {
        try { await Table.DeleteEntityAsync(item.Bucket, item.RowKey, ETag.All, ct); }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }

    public async Task<(DateTimeOffset Hour, ETag? ETag)> CursorAsync(DateTimeOffset fallback, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(CursorPartition, CursorRow, cancellationToken: ct);
        if (r.HasValue && r.Value?.GetDateTimeOffset("Hour") is { } hour) return (hour, r.Value.ETag);
        return (HourStart(fallback), null);
    }

    /// <summary>Moves the cursor forward; false when another instance moved it meanwhile (it is then at least as far).</summary>
    public async Task<bool> AdvanceAsync(DateTimeOffset hour, ETag? read, CancellationToken ct)
    {
        var entity = new TableEntity(CursorPartition, CursorRow) { ["Hour"] = hour };
        try
        {
            if (read is { } tag) await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct);
            else await Table.AddEntityAsync(entity, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { return false; }
    }

    /// <summary>Writes a failed job's retry state; false when another instance changed it since <paramref name="read"/>.</summary>
    public async Task<bool> PutRetryAsync(JobRetry job, ETag? read, CancellationToken ct)
    {
        var entity = new TableEntity(RetryPartition, job.Item.RowKey)
        {
            ["Doc"] = System.Text.Json.JsonSerializer.Serialize(job, Platform.JsonDefaults.Options), ["NextAt"] = job.NextAt, ["Parked"] = job.Parked,
        };
        try
        {
            if (read is { } tag) await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct);
            else await Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412) { return false; }
    }

    public async Task<(JobRetry Job, ETag ETag)?> GetRetryAsync(DueItem item, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(RetryPartition, item.RowKey, cancellationToken: ct);
        return r.HasValue && r.Value is { } e
            ? (System.Text.Json.JsonSerializer.Deserialize<JobRetry>(e.GetString("Doc"), Platform.JsonDefaults.Options)!, e.ETag)
            : null;
    }

    /// <summary>Failed jobs whose next attempt is due (parked ones wait for a person).</summary>
    public async Task<List<(JobRetry Job, ETag ETag)>> RetriesDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {RetryPartition} and Parked eq false and NextAt le {now}");
        var list = new List<(JobRetry, ETag)>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
            list.Add((System.Text.Json.JsonSerializer.Deserialize<JobRetry>(e.GetString("Doc"), Platform.JsonDefaults.Options)!, e.ETag));
        return list;
    }

    public async Task DeleteRetryAsync(JobRetry job, ETag read, CancellationToken ct)
    {
        try { await Table.DeleteEntityAsync(RetryPartition, job.Item.RowKey, read, ct); }
        catch (RequestFailedException e) when (e.Status is 404 or 412) { }
    }
}
