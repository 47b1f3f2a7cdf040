namespace Campaigns.Platform;

// Seams between capabilities. Each interface is implemented by the capability that owns the data and
// consumed by others; the owner registers it in its Add… method. Keep them small.

/// <summary>
/// Owned by Voting: fraud decisions (admins). Invalidation is reversible and adjusts tallies exactly. It is a ledger of
/// its own: a moderation suspension (<see cref="IVoteSuspension"/>) neither lifts nor is lifted by it.
/// </summary>
public interface IVoteInvalidation
{
    /// <summary>Invalidates every vote of the fan in the campaign; returns how many were invalidated.</summary>
    Task<int> InvalidateFanAsync(string campaignId, string fanId, string reason, string actor, CancellationToken ct);

    /// <summary>Lifts what <see cref="InvalidateFanAsync"/> put on, only that; returns how many votes it covered.</summary>
    Task<int> RestoreFanAsync(string campaignId, string fanId, string actor, CancellationToken ct);
}

/// <summary>
/// Owned by Voting, used by Moderation's block: suspends a fan's votes in a ledger separate from fraud invalidation,
/// so an unblock never brings back votes an admin invalidated (and a restore never those of a blocked fan).
/// </summary>
public interface IVoteSuspension
{
    /// <summary>Suspends every vote of the fan in the campaign; returns how many were suspended.</summary>
    Task<int> SuspendFanAsync(string campaignId, string fanId, string reason, string actor, CancellationToken ct);

    /// <summary>Lifts the suspension only; returns how many votes it covered.</summary>
    Task<int> LiftSuspensionAsync(string campaignId, string fanId, string actor, CancellationToken ct);
}

/// <summary>Owned by Voting: who took part, for draws among voters.</summary>
public interface IVoterDirectory
{
    /// <summary>Distinct fan ids with at least one counted, not invalidated vote in the campaign.</summary>
    IAsyncEnumerable<string> CountedVotersAsync(string campaignId, CancellationToken ct);
}

/// <summary>Owned by Voting: revealed (frozen, signed) tallies. Null before the reveal: nothing leaks early.</summary>
public interface IRevealedResults
{
    Task<RevealedTally?> GetRevealedAsync(string campaignId, string roundId, CancellationToken ct);

    /// <summary>
    /// From when staff can watch the round's live counts (it opened and its ballot does not seal them from everyone),
    /// or null if they cannot before the reveal. Weights chosen after that instant could favour a known outcome.
    /// </summary>
    Task<DateTimeOffset?> LiveCountsVisibleFromAsync(string campaignId, string roundId, CancellationToken ct) => Task.FromResult<DateTimeOffset?>(null);
}

/// <summary>For entry voting the category is <see cref="RevealedTally.EntriesCategory"/> and the option is the entry id.</summary>
public sealed record RevealedTally(string CampaignId, string RoundId, DateTimeOffset RevealedAt, IReadOnlyList<RevealedCount> Counts)
{
    public const string EntriesCategory = "entries";
}

public sealed record RevealedCount(string CategoryId, string OptionId, long Count);

/// <summary>Owned by Submissions: approved entries and their owners, for entry voting, judging and winners.</summary>
public interface IEntryDirectory
{
    Task<EntryInfo?> GetAsync(string campaignId, string entryId, CancellationToken ct);
    IAsyncEnumerable<EntryInfo> ApprovedAsync(string campaignId, CancellationToken ct);
}

public sealed record EntryInfo(string CampaignId, string EntryId, string OwnerFanId, string Kind, string Status,
    DateTimeOffset SubmittedAt, string? Title, string? Locale);

/// <summary>Owned by Moderation: fans blocked in a campaign (their entries hidden, votes invalidated).</summary>
public interface IFanBlocklist
{
    Task<bool> IsBlockedAsync(string campaignId, string fanId, CancellationToken ct);
}

/// <summary>
/// Scheduled campaign actions (reveal tallies, run a draw, …) that the Episodes scheduler triggers at their
/// instants. Implementations must be idempotent: the scheduler may call twice.
/// </summary>
public interface IPhaseAction
{
    /// <summary>e.g. "voting.reveal", "winners.draw".</summary>
    string Kind { get; }

    /// <summary>The instants at which this action is due for the campaign (from its windows/settings).</summary>
    Task<IReadOnlyList<DateTimeOffset>> DueInstantsAsync(string campaignId, CancellationToken ct);

    Task RunAsync(string campaignId, DateTimeOffset dueAt, CancellationToken ct);
}

/// <summary>Owned by Moderation: where Submissions sends each new entry for review (idempotent per entry).</summary>
public interface IReviewQueue
{
    Task EnqueueAsync(ReviewRequest request, CancellationToken ct);
}

/// <summary>
/// An entry to review, with what the automatic checks found. <c>Safety</c> is "allow", "review" or "reject";
/// flags name what was found (e.g. "blocklist", "brand-term", "unreadable-image").
/// </summary>
public sealed record ReviewRequest(string CampaignId, string EntryId, string OwnerFanId, string Kind, string? Locale,
    DateTimeOffset SubmittedAt, string Safety, string? SafetyReason, IReadOnlyList<string> Flags, string? Preview);

/// <summary>
/// Owned by Submissions, called by Fans when a fan gives or withdraws public display for a campaign: the gallery then
/// shows (or stops showing) the texts of that fan's labels. Idempotent.
/// </summary>
public interface IPublicDisplay
{
    Task ApplyAsync(string campaignId, string fanId, bool shown, DateTimeOffset at, CancellationToken ct);
}

/// <summary>Owned by Submissions: applies moderation outcomes to the entry the fan and the gallery see.</summary>
public interface IEntryModeration
{
    /// <summary>Status is "approved", "rejected", "hidden" (pending review after reports) or "pending".</summary>
    Task ApplyAsync(string campaignId, string entryId, EntryDecision decision, CancellationToken ct);

    /// <summary>Hides (block) or restores (unblock) every entry of the fan in the campaign; returns how many changed.</summary>
    Task<int> SetOwnerHiddenAsync(string campaignId, string fanId, bool hidden, CancellationToken ct);
}

public sealed record EntryDecision(string Status, string? ReasonCode, string? ReasonText, string Actor, DateTimeOffset At);

/// <summary>
/// A capability that froze something derived from a campaign's windows (a voting round takes the campaign's window
/// when it has none of its own) judges an edit of the campaign before it is saved: a refusal, or null to go ahead.
/// </summary>
public interface ICampaignEditGuard
{
    Task<ApiProblem?> CheckAsync(Campaigns.Campaign before, Campaigns.Campaign after, string actor, DateTimeOffset now, CancellationToken ct);
}
