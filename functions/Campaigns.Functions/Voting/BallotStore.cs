using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Voting;

/// <summary>One row per campaign: the ballot document (rounds, categories, options, mode).</summary>
public sealed class BallotStore(StorageClients storage, TimeProvider time)
{
    public const string TableName = "voteballots";
    private const string Row = "ballot";
    private static readonly TimeSpan CacheTtl = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (Ballot? Ballot, DateTimeOffset Until)> _cache = new();

    private TableClient Table => storage.Table(TableName);

    public async Task<(Ballot Ballot, ETag ETag)?> GetAsync(string campaignId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(campaignId, Row, cancellationToken: ct);
        if (!r.HasValue || r.Value is null) return null;
        return (JsonSerializer.Deserialize<Ballot>(r.Value.GetString("Doc"), JsonDefaults.Options)!, r.Value.ETag);
    }

    /// <summary>Up to two seconds old: for the vote hot path. A round's shape is frozen once it opens, so staleness is harmless.</summary>
    public async Task<Ballot?> GetCachedAsync(string campaignId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(campaignId, out var hit) && hit.Until > now) return hit.Ballot;
        var loaded = (await GetAsync(campaignId, ct))?.Ballot;
        _cache[campaignId] = (loaded, now + CacheTtl);
        return loaded;
    }

    /// <summary>Creates (ifMatch null: insert-if-absent) or replaces (ETag must match) the ballot.</summary>
    public async Task<ETag> SaveAsync(Ballot ballot, ETag? ifMatch, CancellationToken ct)
    {
        var entity = new TableEntity(ballot.CampaignId, Row) { ["Doc"] = JsonSerializer.Serialize(ballot, JsonDefaults.Options) };
        try
        {
            var response = ifMatch is { } tag
                ? await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct)
                : await Table.AddEntityAsync(entity, ct);
            _cache.TryRemove(ballot.CampaignId, out _);
            return response.Headers.ETag ?? default;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new ProblemException(ApiProblem.Stale());
        }
    }
}
