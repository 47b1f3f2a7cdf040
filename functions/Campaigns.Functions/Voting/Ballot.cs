using System.Text.Json.Serialization;

namespace Campaigns.Voting;

/// <summary>"First vote is final": later ballots of the fan are refused as duplicates. "Last vote wins": a new ballot moves the counts.</summary>
public enum VoteMode { FirstIsFinal, LastWins }

/// <summary>Who sees live counts while a round is open: admins only, or nobody until the reveal.</summary>
public enum TallyVisibility { Admins, Nobody }

public enum RoundKind { Ballot, Entries }

public sealed record OptionDef(string Id, Dictionary<string, string> Label, string? Image = null);

public sealed record CategoryDef(string Id, Dictionary<string, string> Label, OptionDef[] Options);

/// <summary>Entry voting budget: at most <c>MaxEntries</c> distinct entries per round, and/or once per entry per local day.</summary>
public sealed record EntryBudget(int? MaxEntries = null, bool OncePerEntryPerDay = false);

/// <summary>
/// A round as a marketer sends it. Opens/Closes/Reveal are optional (default: the campaign's voting window and reveal)
/// and are either instants with an offset ("2026-10-25T02:30:00+01:00") or local times in the campaign's zone
/// ("2026-10-25T02:30:00"), resolved by <see cref="VoteRules.ResolveLocal"/>.
/// </summary>
public sealed record RoundInput(
    string Id,
    Dictionary<string, string> Title,
    RoundKind Kind = RoundKind.Ballot,
    CategoryDef[]? Categories = null,
    EntryBudget? Budget = null,
    string? Opens = null,
    string? Closes = null,
    string? Reveal = null);

public sealed record BallotInput(
    RoundInput[] Rounds,
    VoteMode Mode = VoteMode.FirstIsFinal,
    TallyVisibility Tally = TallyVisibility.Admins,
    bool RequireCaptcha = false);

/// <summary>A stored round: times resolved to UTC instants; the counter shard count is fixed when the round is created.</summary>
public sealed record Round(
    string Id,
    Dictionary<string, string> Title,
    RoundKind Kind,
    CategoryDef[] Categories,
    EntryBudget? Budget,
    DateTimeOffset? Opens,
    DateTimeOffset? Closes,
    DateTimeOffset? Reveal,
    int Shards);

/// <summary>
/// A change the freeze allows on an open round (its close extended, its reveal postponed): who, when, from what to what.
/// Kept inside the ballot document so it is written in the same conditional replace as the change itself.
/// </summary>
public sealed record BallotAuditEntry(string Action, string RoundId, string Actor, DateTimeOffset At, DateTimeOffset? OldValue, DateTimeOffset? NewValue)
{
    public const string CloseExtended = "close_extended";
    public const string RevealPostponed = "reveal_postponed";
}

public sealed record Ballot(
    string CampaignId,
    VoteMode Mode,
    TallyVisibility Tally,
    bool RequireCaptcha,
    Round[] Rounds,
    DateTimeOffset UpdatedAt,
    BallotAuditEntry[]? Audit = null)
{
    public Round? Find(string roundId) => Rounds.FirstOrDefault(r => r.Id == roundId);
}

/// <summary>One choice in a vote request; a list (not a map) so that two options for one category can be refused explicitly.</summary>
public sealed record ChoiceInput(string Category, string Option);

/// <summary>A vote; <c>rulesVersion</c> names the campaign rules the microsite showed with the ballot (accepted with the vote).</summary>
public sealed record VoteInput(ChoiceInput[]? Choices = null, string? EntryId = null, string? CaptchaToken = null, string? RulesVersion = null);

/// <summary>
/// One accepted vote or one refused attempt, as carried in a group-commit queue message. Short names keep
/// ~200 items in one message (64 KiB limit after Base64).
/// </summary>
public sealed record VoteItem(
    [property: JsonPropertyName("i")] string Id,
    [property: JsonPropertyName("c")] string Campaign,
    [property: JsonPropertyName("r")] string Round,
    [property: JsonPropertyName("f")] string Fan,
    [property: JsonPropertyName("t")] DateTimeOffset At,
    [property: JsonPropertyName("s")] int Shard,
    [property: JsonPropertyName("ch")] Dictionary<string, string>? Choices = null,
    [property: JsonPropertyName("x")] string? Refused = null,
    [property: JsonPropertyName("d")] string? Day = null,
    [property: JsonPropertyName("ip")] string? Ip = null,
    [property: JsonPropertyName("rv"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RulesVersion = null);

public sealed record VoteBatch(
    [property: JsonPropertyName("b")] string BatchId,
    [property: JsonPropertyName("v")] List<VoteItem> Items);

/// <summary>Reasons a vote is not (or no longer) counted; each is kept with the vote and counted per reason.</summary>
public static class RefusalReasons
{
    public const string Duplicate = "duplicate";
    public const string RateLimited = "rate_limited";
    public const string CaptchaFailed = "captcha_failed";
    public const string WindowClosed = "window_closed";
    public const string Ineligible = "ineligible";
    /// <summary>The fan has not accepted the campaign's current rules (a new version asks again).</summary>
    public const string ConsentRequired = "consent_required";
    public const string BudgetExhausted = "budget_exhausted";
    /// <summary>Held by a fraud decision (admin).</summary>
    public const string Invalidated = "invalidated";
    /// <summary>Held by a moderation block (and by no fraud decision: a vote held by both counts as invalidated).</summary>
    public const string Suspended = "suspended";
    /// <summary>
    /// Accepted, but no longer valid when counted: its round, option or ballot was removed meanwhile (set by the counter,
    /// so one such item does not fail the whole queue message).
    /// </summary>
    public const string Invalid = "invalid";
    public static readonly string[] All = [Duplicate, RateLimited, CaptchaFailed, WindowClosed, Ineligible, ConsentRequired, BudgetExhausted, Invalidated, Suspended, Invalid];
}

/// <summary>
/// Two authorities may hold a fan's votes out of the tally, each in its own ledger: <c>fraud</c> (an admin's invalidation,
/// lifted only by a restore) and <c>moderation</c> (a moderator's block, lifted only by the unblock). Neither lifts the
/// other's hold, so an unblock cannot bring back votes found fraudulent, nor a restore the votes of a blocked fan.
/// </summary>
public enum HoldLedger { Fraud, Moderation }

/// <summary>One step in a fan row's ledgers: who put a hold on or lifted it, when, and why.</summary>
public sealed record VoteLedgerEntry(HoldLedger Ledger, string Action, string Actor, DateTimeOffset At, string? Reason)
{
    public const string Hold = "hold", Lift = "lift";
    /// <summary>The latest steps kept on the row (it also carries the fan's choices; a table property holds 64 KiB).</summary>
    public const int Kept = 20;
}

/// <summary>
/// The counted state of one fan in one round (one row, in the same partition as the counters it moves). The fraud hold
/// is <c>Invalidated*</c>, the moderation hold <c>Suspended*</c>; the row counts only while neither holds it.
/// </summary>
public sealed record FanVote(
    string FanId,
    string VoteId,
    DateTimeOffset At,
    Dictionary<string, string> Choices,
    Dictionary<string, string>? Entries = null,
    bool Invalidated = false,
    string? InvalidatedNote = null,
    string? InvalidatedBy = null,
    DateTimeOffset? InvalidatedAt = null,
    bool Suspended = false,
    string? SuspendedReason = null,
    string? SuspendedBy = null,
    DateTimeOffset? SuspendedAt = null,
    VoteLedgerEntry[]? Ledger = null,
    string? RulesVersion = null)
{
    public bool Held => Invalidated || Suspended;

    public bool Counted => !Held && VoteCount > 0;

    /// <summary>The (category, option) pairs this fan contributes to the tally while counted.</summary>
    public IEnumerable<(string Category, string Option)> Contributions()
    {
        foreach (var (c, o) in Choices) yield return (c, o);
        foreach (var key in (Entries ?? []).Keys) yield return (Contracts.EntriesCategory, key.Split('@')[0]);
    }

    /// <summary>How many votes this row stands for: one ballot, or one per entry vote.</summary>
    public int VoteCount => Entries is { Count: > 0 } e ? e.Count : Choices.Count > 0 ? 1 : 0;
}

internal static class Contracts
{
    public const string EntriesCategory = Platform.RevealedTally.EntriesCategory;
}
