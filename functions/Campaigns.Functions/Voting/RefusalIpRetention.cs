using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Voting;

/// <summary>
/// Removes the client IP key from refused votes older than the retention period (Privacy__RefusalIpDays). The refusal
/// itself (fan, reason, time, choices) stays as evidence and in the counts; only the IP goes. Refusal rows are the
/// <c>x|</c> rows of the votes table, in every round's shard partitions, so one filtered query over the table finds them
/// (including rounds since removed from their ballot).
/// </summary>
public sealed class RefusalIpRetention(StorageClients storage, ILogger<RefusalIpRetention> logger)
{
    private TableClient Table => storage.Table(VoteCounter.TableName);

    /// <summary>Returns how many IP keys were removed. Idempotent: a row without an IP key is left as it is.</summary>
    public async Task<int> RemoveIpKeysAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey ge {"x|"} and RowKey lt {"x}"} and At lt {cutoff}");
        var removed = 0;
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            if (row.GetString("Ip") is null) continue;
            row.Remove("Ip");
            try
            {
                // Replace (not merge): a merge cannot drop a property. Guarded by the ETag read; refusal rows never change.
                await Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412) { /* gone or changed meanwhile: the next run sees it */ }
        }
        if (removed > 0) logger.LogInformation("Removed the IP key of {Count} refused votes accepted before {Cutoff}", removed, cutoff);
        return removed;
    }
}
