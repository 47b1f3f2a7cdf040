using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Episodes;

/// <summary>
/// One partition per campaign holds its series, episodes, public feed rows, settings, audit entries and phase runs,
/// so a publication (episode state + feed row + audit) is one atomic transaction. Documents are JSON in "Doc".
/// Row keys: series|id, ep|id, feed|newest-first|id, settings, audit|newest-first|id, phase|kind|ticks, webhook|id.
/// </summary>
public sealed class EpisodeStore(StorageClients storage)
{
    public const string TableName = "episodes";
    private TableClient Table => storage.Table(TableName);

    public static string EpisodeKey(string id) => "ep|" + id;
    public static string SeriesKey(string id) => "series|" + id;
    public static string FeedKey(Episode e) => $"feed|{TableKeys.NewestFirst(e.DueAt)}|{e.Id}";

    public async Task<EpisodeSettings> GetSettingsAsync(string campaignId, CancellationToken ct)
        => (await GetDoc<EpisodeSettings>(campaignId, "settings", ct))?.Doc ?? new EpisodeSettings();

    public Task PutSettingsAsync(string campaignId, EpisodeSettings s, CancellationToken ct)
        => Table.UpsertEntityAsync(Entity(campaignId, "settings", s), TableUpdateMode.Replace, ct);

    public async Task CreateSeriesAsync(Series s, CancellationToken ct)
    {
        try { await Table.AddEntityAsync(Entity(s.CampaignId, SeriesKey(s.Id), s), ct); }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            throw new ProblemException(ApiProblem.Conflict("series_exists", $"A series with id '{s.Id}' already exists."));
        }
    }

    public async Task<Series?> GetSeriesAsync(string campaignId, string id, CancellationToken ct)
        => (await GetDoc<Series>(campaignId, SeriesKey(id), ct))?.Doc;

    public Task<ListPage<Series>> ListSeriesAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(Range(campaignId, "series"), pageSize, continuation, Read<Series>, ct);

    public async Task<(Episode Episode, ETag ETag)?> GetEpisodeAsync(string campaignId, string id, CancellationToken ct)
        => await GetDoc<Episode>(campaignId, EpisodeKey(id), ct) is { } r ? (r.Doc, r.ETag) : null;

    public async Task<List<(Episode Episode, ETag ETag)>> ListEpisodesAsync(string campaignId, string seriesId, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {campaignId} and RowKey ge 'ep|' and RowKey lt 'ep}}' and SeriesId eq {seriesId}");
        var list = new List<(Episode, ETag)>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
            list.Add((Read<Episode>(e), e.ETag));
        return list;
    }

    /// <summary>Writes a decision's episodes in one transaction: new ones inserted, changed ones only if unchanged since read.</summary>
    public async Task SaveAsync(string campaignId, IReadOnlyList<Episode> changed, IReadOnlyDictionary<string, ETag> read, CancellationToken ct)
    {
        if (changed.Count == 0) return;
        var actions = changed.Select(e => read.TryGetValue(e.Id, out var tag)
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, EpisodeEntity(e), tag)
            : new TableTransactionAction(TableTransactionActionType.Add, EpisodeEntity(e))).ToList();
        try { await Table.SubmitTransactionAsync(actions, ct); }
        catch (TableTransactionFailedException e) when (e.Status is 409 or 412 or 404)
        {
            throw new ProblemException(ApiProblem.Stale());
        }
    }

    /// <summary>
    /// Publishes (or skips) a due episode: its new state, plus the feed row or the audit entry, in one transaction
    /// conditional on the episode being as read. False when another publisher got there first.
    /// </summary>
    public async Task<bool> CommitDueAsync(Episode updated, ETag read, AuditEntry? audit, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, EpisodeEntity(updated), read) };
        if (updated.State == EpisodeState.Published)
            actions.Add(new(TableTransactionActionType.Add, Entity(updated.CampaignId, FeedKey(updated), EpisodeViews.Public(updated))));
        if (audit is not null) actions.Add(new(TableTransactionActionType.Add, Entity(updated.CampaignId, audit.RowKey, audit)));
        try
        {
            await Table.SubmitTransactionAsync(actions, ct);
            return true;
        }
        catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Published episodes newest first; the continuation is the last row key returned (callers encode it).</summary>
    public async Task<(List<PublicEpisode> Items, string? Next)> FeedAsync(string campaignId, int pageSize, string? afterRowKey, CancellationToken ct)
    {
        var after = afterRowKey ?? "feed|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {campaignId} and RowKey gt {after} and RowKey lt 'feed}}'");
        var items = new List<(string Key, PublicEpisode Doc)>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, Math.Min(pageSize + 1, 1000), ["RowKey", "Doc"], ct))
        {
            items.Add((e.RowKey, Read<PublicEpisode>(e)));
            if (items.Count > pageSize) break;
        }
        var more = items.Count > pageSize;
        var page = items.Take(pageSize).ToList();
        return (page.Select(x => x.Doc).ToList(), more ? page[^1].Key : null);
    }

    public async Task<PublicEpisode?> GetPublishedAsync(string campaignId, string episodeId, CancellationToken ct)
    {
        if (await GetEpisodeAsync(campaignId, episodeId, ct) is not { } found || found.Episode.State != EpisodeState.Published) return null;
        return (await GetDoc<PublicEpisode>(campaignId, FeedKey(found.Episode), ct))?.Doc;
    }

    /// <summary>Insert-if-absent: false when an entry with the same (deterministic) key exists.</summary>
    public async Task<bool> TryAddAuditAsync(string campaignId, AuditEntry entry, CancellationToken ct)
    {
        try { await Table.AddEntityAsync(Entity(campaignId, entry.RowKey, entry), ct); return true; }
        catch (RequestFailedException e) when (e.Status == 409) { return false; }
    }

    public Task<ListPage<AuditEntry>> AuditAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(Range(campaignId, "audit"), pageSize, continuation, Read<AuditEntry>, ct);

    public Task<ListPage<PhaseRun>> PhaseRunsAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(Range(campaignId, "phase"), pageSize, continuation, Read<PhaseRun>, ct);

    /// <summary>Claims a phase run: insert-if-absent, or take over a claim whose lease ran out. Null when not ours to run.</summary>
    public async Task<ETag?> ClaimPhaseAsync(PhaseRun run, TimeSpan lease, CancellationToken ct)
    {
        var entity = Entity(run.CampaignId, run.RowKey, run);
        try { return (await Table.AddEntityAsync(entity, ct)).Headers.ETag; }
        catch (RequestFailedException e) when (e.Status == 409) { }
        if (await GetDoc<PhaseRun>(run.CampaignId, run.RowKey, ct) is not { } existing) return null;
        if (existing.Doc.Status == PhaseRun.Done || existing.Doc.ClaimedAt + lease > run.ClaimedAt) return null;
        try { return (await Table.UpdateEntityAsync(entity, existing.ETag, TableUpdateMode.Replace, ct)).Headers.ETag; }
        catch (RequestFailedException e) when (e.Status is 412 or 404) { return null; }
    }

    public async Task<bool> IsPhaseDoneAsync(string campaignId, string rowKey, CancellationToken ct)
        => (await GetDoc<PhaseRun>(campaignId, rowKey, ct))?.Doc.Status == PhaseRun.Done;

    public Task CompletePhaseAsync(PhaseRun run, ETag claim, CancellationToken ct)
        => Table.UpdateEntityAsync(Entity(run.CampaignId, run.RowKey, run), claim, TableUpdateMode.Replace, ct);

    /// <summary>Drops a claim whose action failed (only ours: conditional on the claim's ETag).</summary>
    public async Task ReleasePhaseAsync(PhaseRun run, ETag claim, CancellationToken ct)
    {
        try { await Table.DeleteEntityAsync(run.CampaignId, run.RowKey, claim, ct); }
        catch (RequestFailedException e) when (e.Status is 404 or 412) { }
    }

    /// <summary>The campaign's scheduled jobs that failed every retry and wait for a person.</summary>
    public Task<ListPage<JobRetry>> ParkedAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(Range(campaignId, "parked"), pageSize, continuation, Read<JobRetry>, ct);

    /// <summary>Replaces the row if unchanged since read; false when someone changed it first.</summary>
    public async Task<bool> ReplaceDocAsync<T>(string pk, string rk, T doc, ETag read, CancellationToken ct)
    {
        try { await Table.UpdateEntityAsync(Entity(pk, rk, doc), read, TableUpdateMode.Replace, ct); return true; }
        catch (RequestFailedException e) when (e.Status is 412 or 404) { return false; }
    }

    public async Task DeleteDocAsync(string pk, string rk, CancellationToken ct)
    {
        try { await Table.DeleteEntityAsync(pk, rk, ETag.All, ct); }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }

    /// <summary>The rows of one kind (row-key prefix) in the campaign's partition.</summary>
    private static string Range(string campaignId, string kind)
        => TableClient.CreateQueryFilter($"PartitionKey eq {campaignId} and RowKey ge {kind + "|"} and RowKey lt {kind + "}"}");

    public async Task<(T Doc, ETag ETag)?> GetDoc<T>(string pk, string rk, CancellationToken ct) where T : class
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
        return r.HasValue && r.Value is not null ? (Read<T>(r.Value), r.Value.ETag) : null;
    }

    public Task PutDoc<T>(string pk, string rk, T doc, CancellationToken ct)
        => Table.UpsertEntityAsync(Entity(pk, rk, doc), TableUpdateMode.Replace, ct);

    private static TableEntity EpisodeEntity(Episode e)
    {
        var entity = Entity(e.CampaignId, EpisodeKey(e.Id), e);
        entity["SeriesId"] = e.SeriesId;
        entity["State"] = e.State.ToString();
        entity["DueAt"] = e.DueAt;
        return entity;
    }

    private static TableEntity Entity<T>(string pk, string rk, T doc) => new(pk, rk) { ["Doc"] = JsonSerializer.Serialize(doc, JsonDefaults.Options) };

    private static T Read<T>(TableEntity e) => JsonSerializer.Deserialize<T>(e.GetString("Doc"), JsonDefaults.Options)
        ?? throw new InvalidDataException($"{e.PartitionKey}/{e.RowKey} has an empty document.");
}

/// <summary>What happened without a person doing it (missed episodes skipped, stale schedule entries dropped).</summary>
public sealed record AuditEntry(string RowKey, string Kind, string Detail, DateTimeOffset At, string? EpisodeId = null, DateTimeOffset? DueAt = null)
{
    public static AuditEntry Missed(Episode e, DateTimeOffset now) => new($"audit|missed|{e.Id}", "episode.skipped",
        $"Episode {e.Id} was due at {e.DueAt:O} and the service caught up at {now:O}; the campaign skips late episodes.", now, e.Id, e.DueAt);
}

/// <summary>One run of a phase (window open/close, reveal, draw) at one due instant; the row key makes it exactly once.</summary>
public sealed record PhaseRun(string CampaignId, string Kind, DateTimeOffset DueAt, string Status, DateTimeOffset ClaimedAt,
    string Instance, DateTimeOffset? DoneAt = null, bool Late = false)
{
    public const string Running = "running", Done = "done";
    public string RowKey => Key(Kind, DueAt);
    public static string Key(string kind, DateTimeOffset dueAt) => $"phase|{kind}|{dueAt.UtcTicks:D19}";
}

public sealed record PublicEpisode(string Id, string SeriesId, DateTimeOffset PublishedAt, DateTimeOffset ScheduledFor,
    Dictionary<string, EpisodeContent> Content);

public static class EpisodeViews
{
    public static PublicEpisode Public(Episode e) => new(e.Id, e.SeriesId, e.PublishedAt ?? e.DueAt, e.DueAt, e.Content);
}
