using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Campaigns;

/// <summary>
/// Campaigns live in one partition (there are few of them, listed together); the document is JSON in one
/// property, with status and name copied out for filtering.
/// </summary>
public sealed class CampaignStore(StorageClients storage, TimeProvider time)
{
    public const string TableName = "campaigns";
    private const string Partition = "campaign";
    private readonly TtlCache<Campaign> _cache = new(TimeSpan.FromSeconds(2), time);

    private TableClient Table => storage.Table(TableName);

    public async Task<ETag> CreateAsync(Campaign campaign, CancellationToken ct)
    {
        try
        {
            var response = await Table.AddEntityAsync(ToEntity(campaign), ct);
            _cache.Forget(campaign.Id); // a read just before the create may have cached its absence
            return response.Headers.ETag ?? default;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            throw new ProblemException(ApiProblem.Conflict("campaign_exists", $"A campaign with id '{campaign.Id}' already exists."));
        }
    }

    public async Task<(Campaign Campaign, ETag ETag)?> GetAsync(string id, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(id)) return null;
        var response = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
        if (!response.HasValue || response.Value is null) return null;
        return (FromEntity(response.Value), response.Value.ETag);
    }

    /// <summary>A read that may be up to two seconds old: for hot paths (vote accept) that only need windows and settings.</summary>
    public Task<Campaign?> GetCachedAsync(string id, CancellationToken ct)
        => _cache.GetAsync(id, async () => (await GetAsync(id, CancellationToken.None))?.Campaign);

    public async Task<ETag> ReplaceAsync(Campaign campaign, ETag ifMatch, CancellationToken ct)
    {
        try
        {
            var response = await Table.UpdateEntityAsync(ToEntity(campaign), ifMatch, TableUpdateMode.Replace, ct);
            _cache.Forget(campaign.Id);
            return response.Headers.ETag ?? default;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            throw new ProblemException(ApiProblem.Stale());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ProblemException(ApiProblem.NotFound("campaign_not_found", "The campaign"));
        }
    }

    /// <summary>Every campaign (start-up migration); <paramref name="workspaces"/> narrows to those workspaces (none: nothing).</summary>
    public async Task<(List<Campaign> Items, string? Next)> ListAsync(CampaignStatus? status, IReadOnlyList<string>? workspaces, int pageSize,
        string? continuation, CancellationToken ct)
    {
        if (workspaces is { Count: 0 }) return ([], null);
        var filter = status is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Status eq {status.ToString()}");
        if (workspaces is not null)
            filter += " and (" + string.Join(" or ", workspaces.Select(w => TableClient.CreateQueryFilter($"Workspace eq {w}"))) + ")";
        await foreach (var page in Table.QueryAsync<TableEntity>(filter, pageSize, cancellationToken: ct).AsPages(continuation, pageSize))
            return (page.Values.Select(FromEntity).ToList(), page.ContinuationToken);
        return ([], null);
    }

    private static TableEntity ToEntity(Campaign c) => new(Partition, c.Id)
    {
        ["Doc"] = JsonSerializer.Serialize(c, JsonDefaults.Options),
        ["Status"] = c.Status.ToString(),
        ["Name"] = c.Name,
        ["Workspace"] = c.WorkspaceId,
    };

    private static Campaign FromEntity(TableEntity e)
        => (JsonSerializer.Deserialize<Campaign>(e.GetString("Doc"), JsonDefaults.Options)
           ?? throw new InvalidDataException($"Campaign {e.RowKey} has an empty document.")).Normalised();
}
