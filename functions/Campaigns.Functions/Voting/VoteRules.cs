using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;

namespace Campaigns.Voting;

/// <summary>A change to one counter row: (category, option) counts, per-reason refusal counts, or the counted-ballots total.</summary>
public readonly record struct CounterDelta(string RowKey, long Delta);

/// <summary>What applying a vote to a fan's state decided. <c>Skip</c> = already applied (redelivery, retry): nothing changes.</summary>
public sealed record VoteDecision(FanVote? Next, IReadOnlyList<CounterDelta> Deltas, string? Refusal, bool Skip)
{
    public static readonly VoteDecision AlreadyApplied = new(null, [], null, true);
}

/// <summary>Pure voting decisions: ballot validation, windows, vote ids, and how a vote or an invalidation moves the counts.</summary>
public static partial class VoteRules
{
    public const int MaxRounds = 10, MaxCategories = 12, MaxOptionsPerCategory = 24;
    /// <summary>Bounds the counter rows one transaction touches (≤ 100 entities per table transaction).</summary>
    public const int MaxOptionsPerRound = 48;
    public const int MaxFanId = 128;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")] public static partial Regex IdPattern();
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")] public static partial Regex IdempotencyKeyPattern();

    public const string TotalRow = "n|t|counted";
    public static string CountRow(string category, string option) => $"n|c|{category}|{option}";
    public static string ReasonRow(string reason) => $"n|r|{reason}";

    public static Dictionary<string, string[]> Validate(BallotInput input, IReadOnlyCollection<string> locales)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string f, string m) { if (!errors.TryGetValue(f, out var l)) errors[f] = l = []; l.Add(m); }
        if (input.Rounds is null || input.Rounds.Length == 0) Add("rounds", "Give at least one round.");
        else
        {
            if (input.Rounds.Length > MaxRounds) Add("rounds", $"At most {MaxRounds} rounds.");
            if (input.Rounds.Select(r => r.Id).Distinct().Count() != input.Rounds.Length) Add("rounds", "Round ids repeat.");
            for (var i = 0; i < input.Rounds.Length; i++)
            {
                var r = input.Rounds[i];
                var p = $"rounds[{i}]";
                if (!IdPattern().IsMatch(r.Id ?? "")) Add($"{p}.id", "Use lowercase letters, digits and hyphens.");
                Labels($"{p}.title", r.Title, locales, Add);
                if (r.Kind == RoundKind.Entries)
                {
                    if (r.Categories is { Length: > 0 }) Add($"{p}.categories", "An entries round has no categories: fans vote for entries.");
                    if (r.Budget?.MaxEntries is < 1 or > 1000) Add($"{p}.budget.maxEntries", "Use 1 to 1000.");
                    continue;
                }
                if (r.Budget is not null) Add($"{p}.budget", "Budgets apply to entries rounds.");
                if (r.Categories is null || r.Categories.Length == 0) { Add($"{p}.categories", "Give at least one category."); continue; }
                if (r.Categories.Length > MaxCategories) Add($"{p}.categories", $"At most {MaxCategories} categories.");
                if (r.Categories.Select(c => c.Id).Distinct().Count() != r.Categories.Length) Add($"{p}.categories", "Category ids repeat.");
                if (r.Categories.Sum(c => c.Options?.Length ?? 0) > MaxOptionsPerRound) Add($"{p}.categories", $"At most {MaxOptionsPerRound} options in a round.");
                for (var j = 0; j < r.Categories.Length; j++)
                {
                    var c = r.Categories[j];
                    var cp = $"{p}.categories[{j}]";
                    if (!IdPattern().IsMatch(c.Id ?? "")) Add($"{cp}.id", "Use lowercase letters, digits and hyphens.");
                    Labels($"{cp}.label", c.Label, locales, Add);
                    if (c.Options is null || c.Options.Length < 2) { Add($"{cp}.options", "Give at least two options."); continue; }
                    if (c.Options.Length > MaxOptionsPerCategory) Add($"{cp}.options", $"At most {MaxOptionsPerCategory} options.");
                    if (c.Options.Select(o => o.Id).Distinct().Count() != c.Options.Length) Add($"{cp}.options", "Option ids repeat.");
                    for (var k = 0; k < c.Options.Length; k++)
                    {
                        var o = c.Options[k];
                        if (!IdPattern().IsMatch(o.Id ?? "")) Add($"{cp}.options[{k}].id", "Use lowercase letters, digits and hyphens.");
                        Labels($"{cp}.options[{k}].label", o.Label, locales, Add);
                        if (o.Image is { Length: > 500 }) Add($"{cp}.options[{k}].image", "At most 500 characters.");
                    }
                }
            }
        }
        return errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    private static void Labels(string field, Dictionary<string, string>? labels, IReadOnlyCollection<string> locales, Action<string, string> add)
    {
        if (labels is null || labels.Count == 0) { add(field, "Give a label in at least one locale."); return; }
        foreach (var (locale, text) in labels)
        {
            if (!locales.Contains(locale)) add(field, $"'{locale}' is not one of the campaign's locales.");
            if (string.IsNullOrWhiteSpace(text) || text.Length > 200) add($"{field}.{locale}", "Required, at most 200 characters.");
        }
    }

    /// <summary>
    /// An instant with an offset is taken as is. A local time without offset is read in the campaign's zone:
    /// a time skipped by a spring-forward gap moves to the first instant after the gap; a time repeated in the
    /// autumn is the EARLIER of the two instants (so a window never runs an hour longer than its local reading).
    /// </summary>
    public static DateTimeOffset? ResolveLocal(string? text, DateTimeZone zone)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var withOffset = OffsetDateTimePattern.ExtendedIso.Parse(text);
        if (withOffset.Success) return withOffset.Value.ToDateTimeOffset();
        var local = LocalDateTimePattern.ExtendedIso.Parse(text);
        if (!local.Success) throw new FormatException($"'{text}' is neither an ISO instant with offset nor a local date-time.");
        return local.Value.InZone(zone, Resolvers.CreateMappingResolver(Resolvers.ReturnEarlier, Resolvers.ReturnStartOfIntervalAfter))
            .ToDateTimeOffset();
    }

    public static (Ballot? Ballot, Dictionary<string, string[]> Errors) Create(BallotInput input, Campaign campaign, Ballot? current,
        int shards, DateTimeOffset now)
    {
        var errors = Validate(input, campaign.Locales);
        if (errors.Count > 0) return (null, errors);
        var rounds = new List<Round>();
        for (var i = 0; i < input.Rounds.Length; i++)
        {
            var r = input.Rounds[i];
            DateTimeOffset? opens = null, closes = null, reveal = null;
            try
            {
                opens = ResolveLocal(r.Opens, campaign.Zone);
                closes = ResolveLocal(r.Closes, campaign.Zone);
                reveal = ResolveLocal(r.Reveal, campaign.Zone);
            }
            catch (FormatException e) { errors[$"rounds[{i}]"] = [e.Message]; continue; }
            if (opens is not null && closes is not null && closes <= opens) errors[$"rounds[{i}].closes"] = ["Must be after opens."];
            // A round keeps the shard count it was created with: its votes are already spread over those shards.
            // What else may change once it opens is BallotFreeze's decision.
            var existing = current?.Find(r.Id);
            rounds.Add(new Round(r.Id, r.Title, r.Kind, r.Categories ?? [], r.Budget, opens, closes, reveal, existing?.Shards ?? shards));
        }
        if (errors.Count > 0) return (null, errors);
        return (new Ballot(campaign.Id, input.Mode, input.Tally, input.RequireCaptcha, rounds.ToArray(), now), errors);
    }

    /// <summary>The round's window: its own times, else the campaign's voting window; null when neither is set.</summary>
    public static TimeWindow? Window(Round round, Campaign campaign)
    {
        var start = round.Opens ?? campaign.Windows.Voting?.Start;
        var end = round.Closes ?? campaign.Windows.Voting?.End;
        return start is { } s && end is { } e && e > s ? new TimeWindow(s, e) : null;
    }

    public static DateTimeOffset? RevealAt(Round round, Campaign campaign) => round.Reveal ?? campaign.Windows.Reveal;

    public static bool IsOpen(Round round, Campaign campaign, DateTimeOffset now) => Window(round, campaign)?.Contains(now) == true;

    /// <summary>Checks a ballot request's choices; returns a problem code and message, or the normalised choices.</summary>
    public static (Dictionary<string, string>? Choices, string? Code, string? Message) CheckChoices(Round round, ChoiceInput[]? choices)
    {
        if (choices is null || choices.Length == 0) return (null, "no_choices", "Pick an option in at least one category.");
        if (choices.Length > MaxCategories) return (null, "too_many_choices", "At most one choice per category.");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in choices)
        {
            if (c is null) return (null, "no_choices", "A choice is empty.");
            var category = round.Categories.FirstOrDefault(x => x.Id == c.Category);
            if (category is null) return (null, "unknown_category", $"'{Clip(c.Category)}' is not a category of this round.");
            if (category.Options.All(o => o.Id != c.Option)) return (null, "unknown_option", $"'{Clip(c.Option)}' is not an option of '{category.Id}'.");
            if (!result.TryAdd(category.Id, c.Option)) return (null, "two_options_in_category", $"Pick one option in '{category.Id}', not two.");
        }
        return (result, null, null);
    }

    private static string Clip(string? s) => s is null ? "" : s.Length > 40 ? s[..40] : s;

    /// <summary>
    /// Deterministic vote id: a retried request (same Idempotency-Key, or without one the same choices) gets the same id,
    /// so the counter sees it as the same vote.
    /// </summary>
    public static string VoteId(string campaign, string round, string fan, string? idempotencyKey, string content)
    {
        var text = $"{campaign}\n{round}\n{fan}\n{(idempotencyKey is null ? "c:" + content : "k:" + idempotencyKey)}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return "v" + Convert.ToHexStringLower(hash.AsSpan(0, 15));
    }

    public static string Canonical(Dictionary<string, string> choices)
        => string.Join(";", choices.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    /// <summary>The counter shard of a fan: stable for the round's fixed shard count.</summary>
    public static int Shard(string fan, int shards)
    {
        // FNV-1a: stable across processes and versions (string.GetHashCode is randomised per process).
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(fan)) hash = (hash ^ b) * 16777619u;
        return (int)(hash % (uint)Math.Max(1, shards));
    }

    public static string LocalDay(DateTimeOffset at, DateTimeZone zone)
        => Instant.FromDateTimeOffset(at).InZone(zone).Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Applies one vote to the fan's counted state. Counts move only between this fan's previous and new contributions,
    /// so applying it in the same transaction as the fan's row keeps tallies exact.
    /// </summary>
    /// <summary>
    /// Pure: why an accepted item can no longer be counted (its ballot, round or option went away between acceptance and
    /// counting), or null. A refused attempt is always recordable. Such an item becomes an <c>invalid</c> refusal on its
    /// own, instead of failing the queue message that also carries other fans' (and campaigns') votes.
    /// </summary>
    public static string? Invalid(VoteItem vote, Ballot? ballot, Round? round)
    {
        if (ballot is null) return $"Campaign '{vote.Campaign}' has no ballot.";
        if (round is null) return $"Round '{vote.Round}' is not on the ballot.";
        if (vote.Refused is not null || round.Kind == RoundKind.Entries) return null;
        foreach (var (category, option) in vote.Choices ?? [])
        {
            if (round.Categories.FirstOrDefault(c => c.Id == category) is not { } c) return $"Category '{category}' is not in round '{round.Id}'.";
            if (!c.Options.Any(o => o.Id == option)) return $"Option '{option}' is not in category '{category}'.";
        }
        return null;
    }

    public static VoteDecision Apply(FanVote? current, VoteItem vote, VoteMode mode, Round round)
    {
        if (vote.Refused is { } reason) return new VoteDecision(current, [new(ReasonRow(reason), 1)], reason, false);
        if (round.Kind == RoundKind.Entries) return ApplyEntry(current, vote, round);
        var choices = vote.Choices ?? [];
        if (current is null)
        {
            var next = new FanVote(vote.Fan, vote.Id, vote.At, new Dictionary<string, string>(choices), RulesVersion: vote.RulesVersion);
            return new VoteDecision(next, [.. choices.Select(c => new CounterDelta(CountRow(c.Key, c.Value), 1)), new(TotalRow, 1)], null, false);
        }
        if (current.VoteId == vote.Id) return VoteDecision.AlreadyApplied;
        if (mode == VoteMode.FirstIsFinal) return new VoteDecision(current, [new(ReasonRow(RefusalReasons.Duplicate), 1)], RefusalReasons.Duplicate, false);
        // Last vote wins, ordered by acceptance time then id: a late-delivered older vote never overrides a newer one.
        if (vote.At < current.At || vote.At == current.At && string.CompareOrdinal(vote.Id, current.VoteId) < 0) return VoteDecision.AlreadyApplied;
        var merged = new Dictionary<string, string>(current.Choices);
        foreach (var (c, o) in choices) merged[c] = o;
        var updated = current with { VoteId = vote.Id, At = vote.At, Choices = merged, RulesVersion = vote.RulesVersion ?? current.RulesVersion };
        return new VoteDecision(updated, Diff(current, updated), null, false);
    }

    private static VoteDecision ApplyEntry(FanVote? current, VoteItem vote, Round round)
    {
        var entryId = vote.Choices?.GetValueOrDefault(Contracts.EntriesCategory) ?? "";
        var key = round.Budget?.OncePerEntryPerDay == true ? $"{entryId}@{vote.Day}" : entryId;
        var state = current ?? new FanVote(vote.Fan, vote.Id, vote.At, [], []);
        var entries = state.Entries ?? [];
        if (entries.TryGetValue(key, out var existingId))
            return existingId == vote.Id ? VoteDecision.AlreadyApplied
                : new VoteDecision(current, [new(ReasonRow(RefusalReasons.Duplicate), 1)], RefusalReasons.Duplicate, false);
        if (entries.ContainsValue(vote.Id)) return VoteDecision.AlreadyApplied;
        var distinct = entries.Keys.Select(k => k.Split('@')[0]).ToHashSet();
        if (round.Budget?.MaxEntries is { } max && !distinct.Contains(entryId) && distinct.Count >= max)
            return new VoteDecision(current, [new(ReasonRow(RefusalReasons.BudgetExhausted), 1)], RefusalReasons.BudgetExhausted, false);
        var next = state with { VoteId = vote.Id, At = vote.At, Entries = new Dictionary<string, string>(entries) { [key] = vote.Id }, RulesVersion = vote.RulesVersion ?? state.RulesVersion };
        return new VoteDecision(next, Diff(current, next), null, false);
    }

    /// <summary>
    /// What a fan row puts into the counters: while counted, one per (category, option) it contributes plus one counted
    /// ballot; while held, its votes under the hold's reason (fraud first, so a vote held twice is counted once).
    /// </summary>
    private static Dictionary<string, long> Effect(FanVote? fan)
    {
        var map = new Dictionary<string, long>();
        if (fan is null || fan.VoteCount == 0) return map;
        if (fan.Held)
        {
            map[ReasonRow(fan.Invalidated ? RefusalReasons.Invalidated : RefusalReasons.Suspended)] = fan.VoteCount;
            return map;
        }
        foreach (var (c, o) in fan.Contributions()) map[CountRow(c, o)] = map.GetValueOrDefault(CountRow(c, o)) + 1;
        map[TotalRow] = 1;
        return map;
    }

    /// <summary>Every change of a fan row moves the counters by the difference of its effects: exact whatever changed.</summary>
    private static List<CounterDelta> Diff(FanVote? before, FanVote after)
    {
        var map = Effect(after);
        foreach (var (row, n) in Effect(before)) map[row] = map.GetValueOrDefault(row) - n;
        return map.Where(kv => kv.Value != 0).Select(kv => new CounterDelta(kv.Key, kv.Value)).ToList();
    }

    private static VoteDecision Changed(FanVote current, FanVote next, VoteLedgerEntry step)
    {
        next = next with { Ledger = [.. (current.Ledger ?? []).TakeLast(VoteLedgerEntry.Kept - 1), step] };
        return new VoteDecision(next, Diff(current, next), null, false);
    }

    /// <summary>A fraud decision holds the fan's votes out of the tally; the row keeps the choices, the note and who decided.</summary>
    public static VoteDecision Invalidate(FanVote? current, string note, string actor, DateTimeOffset now)
    {
        if (current is null || current.Invalidated) return VoteDecision.AlreadyApplied;
        return Changed(current, current with { Invalidated = true, InvalidatedNote = note, InvalidatedBy = actor, InvalidatedAt = now },
            new(HoldLedger.Fraud, VoteLedgerEntry.Hold, actor, now, note));
    }

    /// <summary>Lifts the fraud hold only: the votes count again unless a moderation block still holds them.</summary>
    public static VoteDecision Restore(FanVote? current, string actor, DateTimeOffset now)
    {
        if (current is null || !current.Invalidated) return VoteDecision.AlreadyApplied;
        return Changed(current, current with { Invalidated = false, InvalidatedNote = null, InvalidatedBy = null, InvalidatedAt = null },
            new(HoldLedger.Fraud, VoteLedgerEntry.Lift, actor, now, null));
    }

    /// <summary>A moderator's block suspends the fan's votes; it never touches a fraud hold.</summary>
    public static VoteDecision Suspend(FanVote? current, string reason, string actor, DateTimeOffset now)
    {
        if (current is null || current.Suspended) return VoteDecision.AlreadyApplied;
        return Changed(current, current with { Suspended = true, SuspendedReason = reason, SuspendedBy = actor, SuspendedAt = now },
            new(HoldLedger.Moderation, VoteLedgerEntry.Hold, actor, now, reason));
    }

    /// <summary>Lifts the moderation hold only: the votes count again unless a fraud decision still holds them.</summary>
    public static VoteDecision Lift(FanVote? current, string actor, DateTimeOffset now)
    {
        if (current is null || !current.Suspended) return VoteDecision.AlreadyApplied;
        return Changed(current, current with { Suspended = false, SuspendedReason = null, SuspendedBy = null, SuspendedAt = null },
            new(HoldLedger.Moderation, VoteLedgerEntry.Lift, actor, now, null));
    }

    public static VoteDecision Apply(FanVote? current, AdminOp op, DateTimeOffset now) => (op.Ledger, op.Lift) switch
    {
        (HoldLedger.Fraud, false) => Invalidate(current, op.Note ?? "", op.Actor, now),
        (HoldLedger.Fraud, true) => Restore(current, op.Actor, now),
        (HoldLedger.Moderation, false) => Suspend(current, op.Note ?? "", op.Actor, now),
        _ => Lift(current, op.Actor, now),
    };
}
