using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.DataRights;

/// <summary>
/// Table "datarights": partition <c>job</c> holds erasure jobs (row = job id, no fan id); partition <c>kept</c> the
/// records kept after an erasure with their reason and keep-until date (row = a deterministic id, so a re-run of the
/// job writes the same row).
/// </summary>
public sealed class DataRightsStore(StorageClients storage)
{
    public const string TableName = "datarights";
    public const string JobPartition = "job";
    public const string KeptPartition = "kept";
    private TableClient Table => storage.Table(TableName);

    public async Task<(ErasureJob Job, ETag ETag)?> GetJobAsync(string jobId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(JobPartition, jobId, ["Doc"], ct);
        return r.HasValue && r.Value is { } e ? (Read<ErasureJob>(e), e.ETag) : null;
    }

    /// <summary>Insert (no ETag) or replace at the ETag read; the new ETag, or null when someone else wrote first.</summary>
    public async Task<ETag?> SaveJobAsync(ErasureJob job, ETag? ifMatch, CancellationToken ct)
    {
        var entity = new TableEntity(JobPartition, job.JobId) { ["Doc"] = Json(job), ["Status"] = job.Status };
        try
        {
            var r = ifMatch is { } tag
                ? await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct)
                : await Table.AddEntityAsync(entity, ct);
            return r.Headers.ETag ?? default(ETag);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return null;
        }
    }

    /// <summary>Writes a kept record once: a re-run keeps the first keep-until date, it never extends it.</summary>
    public async Task KeepAsync(KeptRecord record, CancellationToken ct)
    {
        try { await Table.AddEntityAsync(new TableEntity(KeptPartition, record.Id) { ["Doc"] = Json(record), ["KeepUntil"] = record.KeepUntil }, ct); }
        catch (RequestFailedException e) when (e.Status == 409) { }
    }

    public async IAsyncEnumerable<KeptRecord> KeptAsync(DateTimeOffset? dueBefore, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var filter = dueBefore is { } d
            ? TableClient.CreateQueryFilter($"PartitionKey eq {KeptPartition} and KeepUntil le {d}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {KeptPartition}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, 200, ["Doc"], ct)) yield return Read<KeptRecord>(e);
    }

    public async Task DeleteKeptAsync(string id, CancellationToken ct)
    {
        try { await Table.DeleteEntityAsync(KeptPartition, id, ETag.All, ct); }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Options);
    private static T Read<T>(TableEntity e) => JsonSerializer.Deserialize<T>(e.GetString("Doc"), JsonDefaults.Options)!;
}
