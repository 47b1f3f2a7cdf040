namespace Campaigns.Winners;

public enum DrawMethod { Random, TopVotes, Jury, Hybrid }

/// <summary>Who takes part in a random draw; ranked methods always rank approved entries by their owners.</summary>
public enum DrawPool { Voters, Entrants }

public enum DrawStatus { Configured, Committed, Drawn }

public enum WinnerStatus { Selected, Contacted, Claimed, Fulfilled }

/// <summary>Eligibility filters; all on by default. Age and countries come from the campaign's eligibility.</summary>
public sealed record DrawFilters(bool Consent = true, bool AgeConfirmed = true, bool CountryAllowed = true, bool NotBlocked = true,
    bool NotStaff = true, bool OneWinPerPerson = true);

public sealed record ExternalRoundInput(string Source, long Round);

/// <summary>What a marketer sends to define a draw (winner rules) of a campaign.</summary>
public sealed record DrawInput(
    DrawMethod Method,
    int Winners,
    int Alternates = 0,
    DrawPool? Pool = null,
    string? RoundId = null,
    decimal? JuryWeight = null,
    DateTimeOffset? CloseAt = null,
    DrawFilters? Filters = null,
    ExternalRoundInput? External = null);

public sealed record ExternalValueInput(string Value);

public sealed record WinnerStatusInput(WinnerStatus Status);

public sealed record PromoteInput(string Reason, string? Note = null);

/// <summary>
/// A request applied with an Idempotency-Key, kept in the draw's document so it commits in the same write as the
/// change: a retry finds it and is answered without a second change. <see cref="Fingerprint"/> is a hash of the route
/// and body, so the same key sent with another request is recognised.
/// </summary>
public sealed record AppliedRequest(string Key, string Fingerprint, DateTimeOffset At);

/// <summary>
/// A winner notification recorded in the same write as the selection or promotion it announces (outbox), so a
/// crash before it is queued cannot lose it; removed once the queue accepted it.
/// </summary>
public sealed record PendingNotice(string Event, int Position, string Pid, string FanId, string? EntryId, DateTimeOffset At);

/// <summary>A selected person: pseudonymous id (public) and who it is (admins only).</summary>
public sealed record SelectedCandidate(string Pid, string FanId, string? EntryId);

public sealed record WinnerSlot(int Position, string Pid, string FanId, string? EntryId, WinnerStatus Status, DateTimeOffset SelectedAt,
    DateTimeOffset? ContactedAt = null, DateTimeOffset? ClaimedAt = null, DateTimeOffset? FulfilledAt = null);

/// <summary>
/// One draw of a campaign, stored as one document. The seed stays secret until the draw; the record published
/// from this state is immutable after the draw except for appended promotion events. <see cref="MinAge"/> and
/// <see cref="Countries"/> are the campaign's eligibility frozen at the commit (<see cref="RulesSha256"/> set);
/// draws committed before rules were covered (no hash) take them from the campaign at the draw.
/// </summary>
public sealed record DrawState(
    string CampaignId,
    string DrawId,
    DrawMethod Method,
    DrawPool Pool,
    int Winners,
    int Alternates,
    DrawFilters Filters,
    string? RoundId,
    decimal? JuryWeight,
    DateTimeOffset CloseAt,
    DrawStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DrawRecordExternal? External = null,
    string? SeedHex = null,
    string? Commitment = null,
    DateTimeOffset? CommittedAt = null,
    DateTimeOffset? DrawnAt = null,
    int? MinAge = null,
    string[]? Countries = null,
    string? ListSha256 = null,
    int? ListCount = null,
    bool Scored = false,
    List<string>? WinnerIds = null,
    List<SelectedCandidate>? AlternatePool = null,
    List<WinnerSlot>? Slots = null,
    int AlternatesUsed = 0,
    List<DrawRecordEvent>? Events = null,
    Dictionary<string, int>? Excluded = null,
    string? RulesSha256 = null,
    List<AppliedRequest>? Requests = null,
    List<PendingNotice>? Outbox = null);
