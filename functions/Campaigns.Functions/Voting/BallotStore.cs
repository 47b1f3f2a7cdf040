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
    private readonly TtlCache<Ballot> _cache = new(TimeSpan.FromSeconds(2), time);

    private TableClient Table => storage.Table(TableName);

    public async Task<(Ballot Ballot, ETag ETag)?> GetAsync(string campaignId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(campaignId, Row, cancellationToken: ct);
        if (!r.HasValue || r.Value is null) return null;
        return (JsonSerializer.Deserialize<Ballot>(r.Value.GetString("Doc"), JsonDefaults.Options)!, r.Value.ETag);
    }

    /// <summary>Up to two seconds old: for the vote hot path. A round's shape is frozen once it opens, so staleness is harmless.</summary>
    public Task<Ballot?> GetCachedAsync(string campaignId, CancellationToken ct)
        => _cache.GetAsync(campaignId, async () => (await GetAsync(campaignId, CancellationToken.None))?.Ballot);

    /// <summary>Creates (ifMatch null: insert-if-absent) or replaces (ETag must match) the ballot.</summary>
    public async Task<ETag> SaveAsync(Ballot ballot, ETag? ifMatch, CancellationToken ct)
    {
        var entity = new TableEntity(ballot.CampaignId, Row) { ["Doc"] = JsonSerializer.Serialize(ballot, JsonDefaults.Options) };
        try
        {
            var response = ifMatch is { } tag
                ? await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct)
                : await Table.AddEntityAsync(entity, ct);
            _cache.Forget(ballot.CampaignId);
            return response.Headers.ETag ?? default;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new ProblemException(ApiProblem.Stale());
        }
    }
}
