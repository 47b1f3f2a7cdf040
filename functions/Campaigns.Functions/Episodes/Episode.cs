namespace Campaigns.Episodes;

public enum EpisodeState { Draft, Scheduled, Published, Cancelled }

public enum CatchUpPolicy { PublishLate, Skip }

/// <summary>Content in one locale. Media are references (blob paths or https URLs), never uploads.</summary>
public sealed record EpisodeContent(string Title, string? Body = null, string[]? Images = null, string[]? Videos = null,
    string? Quote = null, string? QuoteCredit = null);

/// <summary>A series: its publication slots come from a recurrence or from explicit local times.</summary>
public sealed record Series(string Id, string CampaignId, string Name, RecurrenceInput? Recurrence, string[]? Times,
    DateTimeOffset CreatedAt);

public sealed record Episode(
    string Id,
    string CampaignId,
    string SeriesId,
    EpisodeState State,
    DateTimeOffset DueAt,
    Dictionary<string, EpisodeContent> Content,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    bool Pinned = false,
    DateTimeOffset? PublishedAt = null,
    bool Late = false,
    string? CancelReason = null)
{
    /// <summary>Published and cancelled episodes are history: nothing may change them.</summary>
    public bool Editable => State is EpisodeState.Draft or EpisodeState.Scheduled;
}

/// <summary>Per-campaign publishing settings (the campaign document belongs to the Campaigns capability).</summary>
public sealed record EpisodeSettings(CatchUpPolicy CatchUp = CatchUpPolicy.PublishLate, string? WebhookUrl = null, int LateAfterMinutes = 5);

public sealed record SeriesInput(string Name, RecurrenceInput? Recurrence = null, string[]? Times = null, string? Id = null);

public sealed record PreviewInput(RecurrenceInput? Recurrence = null, string[]? Times = null, int? Count = null, string? TimeZone = null);

/// <summary>Create: appended to the series' next free slot, inserted at <c>Position</c>, or pinned to <c>At</c> (local date-time).</summary>
public sealed record EpisodeInput(Dictionary<string, EpisodeContent> Content, int? Position = null, string? At = null);

public sealed record EpisodeEdit(Dictionary<string, EpisodeContent> Content, string? At = null);

public sealed record OrderInput(string[] EpisodeIds);

public sealed record SettingsInput(CatchUpPolicy CatchUp, string? WebhookUrl = null, int? LateAfterMinutes = null);

/// <summary>Saved settings; <see cref="WebhookSecret"/> only in the answer that set a new receiver (shown once).</summary>
public sealed record SettingsView(CatchUpPolicy CatchUp, string? WebhookUrl, int LateAfterMinutes, string? WebhookSecret);

public sealed record RotateSecretInput(int? OverlapHours = null);

/// <summary>A parked job as staff see it; (type, target, dueAt) names it for a retry.</summary>
public sealed record ParkedJobView(string Type, string Target, DateTimeOffset DueAt, int Attempts, DateTimeOffset FirstFailedAt, string LastError, bool Parked)
{
    public static ParkedJobView Of(JobRetry j) => new(j.Item.Type, j.Item.Target, j.Item.DueAt, j.Attempts, j.FirstFailedAt, j.LastError, j.Parked);
}

public sealed record ParkedRetryInput(string Type, string Target, DateTimeOffset DueAt);
