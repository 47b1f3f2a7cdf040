using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Episodes;

/// <summary>
/// Views and reactions per episode. One partition per (campaign, episode): the fan's reaction row and the counter
/// shard it increments are written in one transaction, so a reaction is counted exactly once (409 = already).
/// Counters are sharded per local day (the campaign's zone) so bursts of views do not contend on one entity.
/// </summary>
public sealed class EngagementStore(StorageClients storage)
{
    public const string TableName = "episodeengagement";
    private const int Shards = 8, MaxAttempts = 30;
    private TableClient Table => storage.Table(TableName);

    private static string Partition(string campaignId, string episodeId) => $"{campaignId}|{episodeId}";

    public async Task ViewAsync(string campaignId, string episodeId, string day, CancellationToken ct)
        => await IncrementAsync(campaignId, episodeId, day, 1, 0, null, ct);

    /// <summary>False when the fan already reacted to this episode.</summary>
    public Task<bool> ReactAsync(string campaignId, string episodeId, string fanId, string day, DateTimeOffset now, CancellationToken ct)
    {
        var fanRow = new TableEntity(Partition(campaignId, episodeId), "fan|" + TableKeys.Escape(fanId)) { ["At"] = now, ["Day"] = day };
        return IncrementAsync(campaignId, episodeId, day, 0, 1, fanRow, ct);
    }

    private async Task<bool> IncrementAsync(string campaignId, string episodeId, string day, long views, long reactions, TableEntity? with, CancellationToken ct)
    {
        var pk = Partition(campaignId, episodeId);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var rk = $"c|{day}|{Random.Shared.Next(Shards)}";
            var current = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
            var actions = new List<TableTransactionAction>();
            if (with is not null) actions.Add(new(TableTransactionActionType.Add, with));
            if (current.HasValue && current.Value is { } c)
            {
                c["Views"] = (c.GetInt64("Views") ?? 0) + views;
                c["Reactions"] = (c.GetInt64("Reactions") ?? 0) + reactions;
                actions.Add(new(TableTransactionActionType.UpdateReplace, c, c.ETag));
            }
            else actions.Add(new(TableTransactionActionType.Add, new TableEntity(pk, rk) { ["Day"] = day, ["Views"] = views, ["Reactions"] = reactions }));
            try
            {
                await Table.SubmitTransactionAsync(actions, ct);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                if (with is not null && e.FailedTransactionActionIndex == 0 && e.Status == 409) return false;
            }
        }
        throw new InvalidOperationException($"Counter {pk} stayed contended after {MaxAttempts} attempts.");
    }

    public async Task<List<(string Day, long Views, long Reactions)>> CountsAsync(string campaignId, string episodeId, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(campaignId, episodeId)} and RowKey ge 'c|' and RowKey lt 'c}}'");
        var byDay = new SortedDictionary<string, (long V, long R)>(StringComparer.Ordinal);
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["Day", "Views", "Reactions"], cancellationToken: ct))
        {
            var d = e.GetString("Day");
            byDay.TryGetValue(d, out var t);
            byDay[d] = (t.V + (e.GetInt64("Views") ?? 0), t.R + (e.GetInt64("Reactions") ?? 0));
        }
        return byDay.Select(kv => (kv.Key, kv.Value.V, kv.Value.R)).ToList();
    }
}

/// <summary>Pure engagement figures: rate = reactions ÷ views (null without views).</summary>
public static class EngagementRules
{
    public sealed record Figure(long Views, long Reactions, double? Rate);

    public static Figure Of(long views, long reactions) => new(views, reactions, views == 0 ? null : Math.Round((double)reactions / views, 4));
}
