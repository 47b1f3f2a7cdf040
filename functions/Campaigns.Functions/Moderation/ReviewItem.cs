namespace Campaigns.Moderation;

public enum ReviewStatus { Pending, Escalated, Approved, Rejected }

public enum ReviewAction { Approve, Reject, Escalate }

/// <summary>
/// One entry in a campaign's review queue. Moderators never edit the content: the item carries a preview
/// and what the automatic checks found; decisions change only its status.
/// </summary>
public sealed record ReviewItem(
    string CampaignId,
    string EntryId,
    string OwnerFanId,
    string Kind,
    string? Locale,
    DateTimeOffset SubmittedAt,
    // When the SLA clock started: enqueue, or when reports hid the entry again.
    DateTimeOffset QueuedAt,
    string Safety,
    string? SafetyReason,
    string[] Flags,
    string? Preview,
    int Priority,
    ReviewStatus Status,
    bool Hidden,
    int Reports,
    // Bumped on every audited change; the audit row of a change is keyed by it.
    int Version,
    string? ClaimedBy = null,
    string? ClaimId = null,
    DateTimeOffset? LeaseUntil = null,
    string? DecidedBy = null,
    DateTimeOffset? DecidedAt = null,
    string? ReasonCode = null,
    bool Automatic = false)
{
    public bool IsOpen => Status is ReviewStatus.Pending or ReviewStatus.Escalated;
}

/// <summary>An audited change: who, when, what, and the state before.</summary>
public sealed record AuditRecord(
    string CampaignId,
    string Subject,
    int Seq,
    string Action,
    string Actor,
    bool Automatic,
    DateTimeOffset At,
    string? PreviousStatus,
    string? NewStatus,
    string? ReasonCode = null,
    string? Note = null,
    Dictionary<string, int>? Counts = null);

/// <summary>Per-campaign moderation policy; missing values come from <see cref="ModerationOptions"/>.</summary>
public sealed record ModerationSettings(
    bool AutoApprove,
    string[] AutoApproveKinds,
    bool AutoRejectHardBlocks,
    string[] HardBlockFlags,
    int ReportHideThreshold);

public sealed record ModerationSettingsInput(
    bool? AutoApprove = null,
    string[]? AutoApproveKinds = null,
    bool? AutoRejectHardBlocks = null,
    string[]? HardBlockFlags = null,
    int? ReportHideThreshold = null);

/// <summary>A fan blocked in a campaign, with what blocking changed so unblocking restores exactly that.</summary>
public sealed record FanBlock(string CampaignId, string FanId, bool Blocked, int Version, string Actor, DateTimeOffset At,
    string? Reason, int EntriesHidden, int VotesInvalidated);

public sealed record ClaimInput(int? Count = null, string? Kind = null, string? Flag = null, string? Locale = null, string? Status = null);

public sealed record DecisionInput(string Action, string? ReasonCode = null, string? Note = null);

public sealed record BulkDecisionInput(string[] EntryIds, string Action, string? ReasonCode = null, string? Note = null);

public sealed record ReportInput(string Reason, string? Note = null);

public sealed record BlockInput(string? Reason = null);
