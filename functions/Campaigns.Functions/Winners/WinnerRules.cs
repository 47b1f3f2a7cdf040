using System.Globalization;
using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using Campaigns.Fans;

namespace Campaigns.Winners;

/// <summary>Pure decisions about draws and winners, given <c>now</c>. Refusals carry a stable code.</summary>
public static partial class WinnerRules
{
    public const int MaxWinners = 50, MaxAlternates = 50;
    public const string SelectedEvent = "winner.selected", PromotedEvent = "winner.promoted";
    public static readonly string[] PromoteReasons = ["ineligible", "no_response", "declined"];

    /// <summary>Idempotency-Keys remembered per draw; older ones fall out (a client retries within minutes, not after 50 more changes).</summary>
    public const int KeptRequests = 50;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")] public static partial Regex DrawIdPattern();
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")] public static partial Regex IdempotencyKeyPattern();
    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")] private static partial Regex RoundIdPattern();
    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,31}$")] private static partial Regex SourcePattern();

    public sealed record Decision(DrawState? Value, int Status = 0, string? Code = null, string? Detail = null)
    {
        public static Decision Ok(DrawState s) => new(s);
        public static Decision Refused(int status, string code, string detail) => new(null, status, code, detail);
    }

    public static Dictionary<string, string[]> Validate(DrawInput input)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.Winners is < 1 or > MaxWinners) errors["winners"] = [$"Between 1 and {MaxWinners}."];
        if (input.Alternates is < 0 or > MaxAlternates) errors["alternates"] = [$"Between 0 and {MaxAlternates}."];
        if (input.Method == DrawMethod.Random && input.Pool is null) errors["pool"] = ["A random draw needs a pool: voters or entrants."];
        if (input.Method != DrawMethod.Random && input.Pool is not null) errors["pool"] = ["Ranked draws rank approved entries; leave pool out."];
        var needsRound = input.Method != DrawMethod.Random;
        if (needsRound && (input.RoundId is null || !RoundIdPattern().IsMatch(input.RoundId)))
            errors["roundId"] = ["The voting or judging round to rank by (letters, digits, '.', '_', '-')."];
        if (!needsRound && input.RoundId is not null) errors["roundId"] = ["Only ranked draws use a round."];
        if (input.Method == DrawMethod.Hybrid)
        {
            if (input.JuryWeight is not { } w || w <= 0 || w >= 1) errors["juryWeight"] = ["A hybrid draw needs a jury weight strictly between 0 and 1 (public vote gets the rest)."];
        }
        else if (input.JuryWeight is not null) errors["juryWeight"] = ["Only hybrid draws have a jury weight."];
        if (input.External is { } x)
        {
            if (!SourcePattern().IsMatch(x.Source ?? "")) errors["external.source"] = ["A short name of the public randomness source, e.g. 'drand-quicknet'."];
            if (x.Round < 1) errors["external.round"] = ["A positive round number."];
        }
        return errors;
    }

    /// <summary>When the draw may run: given, or the end of the window its candidates come from.</summary>
    public static DateTimeOffset? CloseAt(DrawInput input, Campaign c) => input.CloseAt ?? (input.Method, input.Pool) switch
    {
        (DrawMethod.Random, DrawPool.Entrants) => c.Windows.Entry?.End,
        (DrawMethod.Random, _) => c.Windows.Voting?.End,
        (DrawMethod.Jury, _) => c.Windows.Reveal ?? c.Windows.Voting?.End ?? c.Windows.Entry?.End,
        _ => c.Windows.Reveal ?? c.Windows.Voting?.End,
    };

    /// <summary>
    /// Rules can change until the seed is committed; after that they are part of what was committed to. Re-sending
    /// the committed rules (a retried request) is answered with the draw unchanged; any difference is refused.
    /// </summary>
    public static Decision Configure(DrawState? current, Campaign campaign, string drawId, DrawInput input, DateTimeOffset now)
    {
        if (current is { Status: not DrawStatus.Configured })
            return CloseAt(input, campaign) is { } at && SameRules(current, Configured(current, campaign, drawId, input, at, now))
                ? Decision.Ok(current)
                : Decision.Refused(409, "draw_committed", "The seed is committed; the draw's rules can no longer change.");
        if (CloseAt(input, campaign) is not { } close)
            return Decision.Refused(400, "close_at_required", "Give closeAt: the campaign has no window this draw could close with.");
        if (close <= now) return Decision.Refused(409, "window_closed", "The draw's window has closed; rules must be set before it closes.");
        return Decision.Ok(Configured(current, campaign, drawId, input, close, now));
    }

    private static DrawState Configured(DrawState? current, Campaign campaign, string drawId, DrawInput input, DateTimeOffset close, DateTimeOffset now)
        => new(campaign.Id, drawId, input.Method, input.Pool ?? DrawPool.Entrants, input.Winners, input.Alternates,
            input.Filters ?? new DrawFilters(), input.RoundId, input.JuryWeight, close, DrawStatus.Configured,
            current?.CreatedAt ?? now, now,
            External: input.External is { } x ? new DrawRecordExternal(x.Source, x.Round, null, null) : null);

    /// <summary>Equal in everything <see cref="RulesText"/> covers that a marketer sets (eligibility comes from the campaign).</summary>
    private static bool SameRules(DrawState a, DrawState b)
        => a.Method == b.Method && a.Pool == b.Pool && a.Winners == b.Winners && a.Alternates == b.Alternates && a.Filters == b.Filters
           && a.RoundId == b.RoundId && a.JuryWeight == b.JuryWeight && a.CloseAt == b.CloseAt
           && a.External?.Source == b.External?.Source && a.External?.Round == b.External?.Round;

    /// <summary>
    /// The commitment must be public before the window closes, i.e. before anyone knows who is eligible. It freezes
    /// the campaign's eligibility into the draw and commits to the seed and the rules together, so neither can
    /// change afterwards without the published commitment showing it.
    /// </summary>
    public static Decision Commit(DrawState s, Eligibility eligibility, byte[] seed, DateTimeOffset now)
    {
        if (s.Status != DrawStatus.Configured) return Decision.Refused(409, "already_committed", "The seed was already committed; it cannot be replaced.");
        if (now >= s.CloseAt) return Decision.Refused(409, "commit_after_close", "The window has closed: a commitment made now would prove nothing.");
        var frozen = s with { MinAge = eligibility.MinAge, Countries = eligibility.Countries is { } c ? [.. c] : null };
        var rulesSha = DrawRules.Sha256(RulesText(frozen));
        return Decision.Ok(frozen with
        {
            Status = DrawStatus.Committed,
            SeedHex = DrawAlgorithm.Hex(seed),
            RulesSha256 = rulesSha,
            Commitment = DrawRules.Commitment(seed, rulesSha),
            CommittedAt = now,
            UpdatedAt = now,
        });
    }

    /// <summary>The canonical rules text of a draw, from the same fields its public record shows.</summary>
    public static string RulesText(DrawState s)
        => DrawRules.Text(s.CampaignId, s.DrawId, MethodName(s), PoolName(s), s.Winners, s.Alternates, s.CloseAt, RecordFilters(s),
            s.External?.Source, s.External?.Round, DrawRecord.TieRuleText);

    /// <summary>The eligibility a draw applies: frozen at its commit, or (draws committed before that) the campaign's at the draw.</summary>
    public static Eligibility EligibilityOf(DrawState s, Campaign c) => s.RulesSha256 is null ? c.Eligibility : new Eligibility(s.MinAge, s.Countries);

    public static Decision EnterExternal(DrawState s, string value, DateTimeOffset now)
    {
        if (s.External is null) return Decision.Refused(409, "no_external_round", "This draw declares no external randomness round.");
        if (s.Status == DrawStatus.Drawn) return Decision.Refused(409, "already_drawn", "The draw has been made.");
        if (s.Status != DrawStatus.Committed) return Decision.Refused(409, "no_commitment", "Commit the seed first: the external value must come after the commitment.");
        if (s.External.Value is not null) return Decision.Refused(409, "external_already_entered", "The external value was entered and cannot change.");
        if (!DrawAlgorithm.HexId().IsMatch(value ?? ""))
            return Decision.Refused(400, "invalid_external_value", "Enter the round's randomness as 64 lowercase hex digits, as the source publishes it.");
        return Decision.Ok(s with { External = s.External with { Value = value, EnteredAt = now }, UpdatedAt = now });
    }

    public static Decision? CanDraw(DrawState s, DateTimeOffset now)
    {
        if (s.Status == DrawStatus.Drawn) return Decision.Refused(409, "already_drawn", "This draw has been made; a draw is never re-run.");
        if (s.Status != DrawStatus.Committed) return Decision.Refused(409, "no_commitment", "No seed commitment was published before the window closed.");
        if (now < s.CloseAt) return Decision.Refused(409, "window_open", $"The draw's window closes at {s.CloseAt:O}; draw after it.");
        if (s.External is { Value: null }) return Decision.Refused(409, "external_value_missing", $"Enter the value of {s.External.Source} round {s.External.Round} first.");
        return null;
    }

    /// <summary>What is known about a person at draw time, for the filters.</summary>
    public sealed record Facts(FanProfile? Profile, CampaignConsent? Consent, bool Blocked, bool AlreadyWon);

    /// <summary>Why a person cannot win, or null when eligible. Checked in this order; the first reason counts.</summary>
    public static string? Exclusion(Facts f, DrawFilters filters, string? rulesVersion, Eligibility eligibility, DateTimeOffset now)
    {
        if (filters.Consent && (f.Consent is null || f.Consent.RulesVersion != rulesVersion)) return "no_consent";
        if (filters.AgeConfirmed && f.Consent?.AgeConfirmedAt is null) return "age_not_confirmed";
        // No birth date while the campaign sets an age: excluded (fails closed) and counted apart from under_age.
        if (filters.AgeConfirmed && eligibility.MinAge is not null && f.Profile?.BirthDate is null) return "age_unknown";
        if (filters.AgeConfirmed && eligibility.MinAge is { } min && f.Profile?.AgeAt(now) is { } age && age < min) return "under_age";
        if (filters.CountryAllowed && eligibility.Countries is { Length: > 0 } countries && !countries.Contains(f.Profile?.Country)) return "country_not_allowed";
        if (filters.NotBlocked && f.Blocked) return "blocked";
        if (filters.NotStaff && f.Profile?.IsStaff == true) return "staff";
        if (filters.OneWinPerPerson && f.AlreadyWon) return "already_won";
        return null;
    }

    public static string VotesScore(long votes) => votes.ToString(CultureInfo.InvariantCulture);

    public static string DecimalScore(decimal value) => Math.Round(value, 6, MidpointRounding.ToEven).ToString("0.000000", CultureInfo.InvariantCulture);

    /// <summary>Hybrid score = w × jury (0..1) + (1 − w) × votes / most votes of any entry.</summary>
    public static decimal Hybrid(decimal jury, long votes, long maxVotes, decimal juryWeight)
        => juryWeight * Math.Clamp(jury, 0m, 1m) + (1 - juryWeight) * (maxVotes <= 0 ? 0m : (decimal)votes / maxVotes);

    /// <summary>Freezes the result: the first <c>Winners</c> selected win, the rest are alternates in order.</summary>
    public static DrawState Drawn(DrawState s, IReadOnlyList<SelectedCandidate> selected, string listSha, int listCount, bool scored,
        Dictionary<string, int> excluded, int? minAge, string[]? countries, DateTimeOffset now)
    {
        var winners = selected.Take(s.Winners).ToList();
        return s with
        {
            Status = DrawStatus.Drawn,
            DrawnAt = now,
            UpdatedAt = now,
            ListSha256 = listSha,
            ListCount = listCount,
            Scored = scored,
            // Frozen at the commit; only draws committed before that record the eligibility they were drawn with here.
            MinAge = s.RulesSha256 is null ? minAge : s.MinAge,
            Countries = s.RulesSha256 is null ? countries : s.Countries,
            Excluded = excluded,
            WinnerIds = winners.Select(w => w.Pid).ToList(),
            AlternatePool = selected.Skip(s.Winners).ToList(),
            Slots = winners.Select((w, i) => new WinnerSlot(i + 1, w.Pid, w.FanId, w.EntryId, WinnerStatus.Selected, now)).ToList(),
            Events = [],
            Outbox = [.. s.Outbox ?? [], .. winners.Select((w, i) => new PendingNotice(SelectedEvent, i + 1, w.Pid, w.FanId, w.EntryId, now))],
        };
    }

    /// <summary>Marketers move a winner forward only: selected → contacted → claimed → fulfilled.</summary>
    public static Decision SetStatus(DrawState s, int position, WinnerStatus status, DateTimeOffset now)
    {
        if (s.Status != DrawStatus.Drawn || s.Slots is null) return Decision.Refused(409, "not_drawn", "The draw has not been made.");
        var slot = s.Slots.FirstOrDefault(x => x.Position == position);
        if (slot is null) return Decision.Refused(404, "winner_not_found", $"There is no winner position {position}.");
        if (status < slot.Status) return Decision.Refused(409, "status_backwards", $"The winner is already {slot.Status.ToString().ToLowerInvariant()}.");
        if (status == slot.Status) return Decision.Ok(s);
        var updated = slot with
        {
            Status = status,
            ContactedAt = slot.ContactedAt ?? (status >= WinnerStatus.Contacted ? now : null),
            ClaimedAt = slot.ClaimedAt ?? (status >= WinnerStatus.Claimed ? now : null),
            FulfilledAt = slot.FulfilledAt ?? (status >= WinnerStatus.Fulfilled ? now : null),
        };
        return Decision.Ok(s with { Slots = s.Slots.Select(x => x.Position == position ? updated : x).ToList(), UpdatedAt = now });
    }

    /// <summary>
    /// Replaces a winner by the next unused alternate, in the published order, with a logged reason. "no_response"
    /// is accepted only once the claim period since selection has passed.
    /// </summary>
    public static Decision Promote(DrawState s, int position, string reason, string? note, TimeSpan claimPeriod, DateTimeOffset now)
    {
        if (s.Status != DrawStatus.Drawn || s.Slots is null || s.AlternatePool is null) return Decision.Refused(409, "not_drawn", "The draw has not been made.");
        if (!PromoteReasons.Contains(reason)) return Decision.Refused(400, "invalid_reason", $"Reason is one of {string.Join(", ", PromoteReasons)}.");
        if (note is { Length: > 200 } || note?.Any(char.IsControl) == true) return Decision.Refused(400, "invalid_note", "A note has at most 200 characters, no control characters.");
        var slot = s.Slots.FirstOrDefault(x => x.Position == position);
        if (slot is null) return Decision.Refused(404, "winner_not_found", $"There is no winner position {position}.");
        if (slot.Status >= WinnerStatus.Claimed) return Decision.Refused(409, "winner_claimed", "A winner who claimed the prize is not replaced.");
        if (reason == "no_response" && now < slot.SelectedAt + claimPeriod)
            return Decision.Refused(409, "claim_period_open", $"The winner has until {(slot.SelectedAt + claimPeriod):O} to answer.");
        if (s.AlternatesUsed >= s.AlternatePool.Count) return Decision.Refused(409, "no_alternates_left", "Every alternate has been used.");
        var next = s.AlternatePool[s.AlternatesUsed];
        var promoted = new WinnerSlot(position, next.Pid, next.FanId, next.EntryId, WinnerStatus.Selected, now);
        var ev = new DrawRecordEvent(now, "promoted", position, slot.Pid, next.Pid, s.AlternatesUsed + 1, reason, note);
        return Decision.Ok(s with
        {
            Slots = s.Slots.Select(x => x.Position == position ? promoted : x).ToList(),
            AlternatesUsed = s.AlternatesUsed + 1,
            Events = [.. s.Events ?? [], ev],
            Outbox = [.. s.Outbox ?? [], new PendingNotice(PromotedEvent, position, next.Pid, next.FanId, next.EntryId, now)],
            UpdatedAt = now,
        });
    }

    /// <summary>A short, stable hash of what a request asks for: its operation and every input that changes the outcome.</summary>
    public static string Fingerprint(params object?[] parts)
        => DrawAlgorithm.Sha256Hex(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", parts.Select(p => p?.ToString() ?? "\0"))))[..32];

    /// <summary>
    /// A key already applied to this draw: the same request is answered with the draw as it is (no second change);
    /// another request under the same key is refused. Null: the key is new (or absent), decide as usual.
    /// </summary>
    public static Decision? Replay(DrawState s, string? key, string fingerprint)
    {
        if (key is null || s.Requests?.FirstOrDefault(r => r.Key == key) is not { } seen) return null;
        return seen.Fingerprint == fingerprint ? Decision.Ok(s)
            : Decision.Refused(422, "idempotency_key_reused", "This Idempotency-Key was used for another request on this draw; use a new key per request.");
    }

    /// <summary>The changed draw with the key it was changed under, written together so a retry can never apply it twice.</summary>
    public static DrawState Remember(DrawState changed, string? key, string fingerprint, DateTimeOffset now)
        => key is null ? changed : changed with { Requests = [.. (changed.Requests ?? []).TakeLast(KeptRequests - 1), new AppliedRequest(key, fingerprint, now)] };

    /// <summary>The draw without the notifications the queue accepted (a later one recorded meanwhile stays).</summary>
    public static DrawState Sent(DrawState s, IReadOnlyCollection<PendingNotice> sent)
        => s with { Outbox = s.Outbox?.Where(n => !sent.Contains(n)).ToList() is { Count: > 0 } left ? left : null };

    public static string ListUrl(DrawState s) => $"/api/public/campaigns/{s.CampaignId}/draws/{s.DrawId}/eligible.txt";

    /// <summary>The public record: the commitment before the draw, everything needed to re-run it after.</summary>
    public static DrawRecord Record(DrawState s)
    {
        var drawn = s.Status == DrawStatus.Drawn;
        return new DrawRecord(s.RulesSha256 is null ? DrawRecord.FormatVersion1 : DrawRecord.FormatVersion, DrawAlgorithm.Version, s.CampaignId, s.DrawId,
            MethodName(s), PoolName(s), s.Winners, s.Alternates, RecordFilters(s),
            DrawRecord.TieRuleText, s.CloseAt, s.Commitment ?? "", s.RulesSha256, s.CommittedAt ?? default, s.External, drawn ? "drawn" : "committed",
            DrawnAt: s.DrawnAt,
            Seed: drawn ? s.SeedHex : null,
            List: drawn ? new DrawRecordList(DrawAlgorithm.ListFormat, s.ListSha256!, s.ListCount ?? 0, s.Scored, ListUrl(s),
                "HMAC-SHA256(campaign pseudonym key, UTF-8 \"campaignId\\nfanId\"), lowercase hex; a fan can ask for their own id") : null,
            WinnerIds: drawn ? s.WinnerIds : null,
            AlternateIds: drawn ? s.AlternatePool?.Select(a => a.Pid).ToList() : null,
            Excluded: drawn ? s.Excluded : null,
            // Notes are free text for staff and may name people; the public record keeps the reason code only.
            Events: drawn ? s.Events?.Select(e => e with { Note = null }).ToList() : null);
    }

    private static string MethodName(DrawState s) => JsonName(s.Method.ToString());

    private static string PoolName(DrawState s) => s.Method == DrawMethod.Random ? JsonName(s.Pool.ToString()) : "entries";

    private static DrawRecordFilters RecordFilters(DrawState s)
        => new(s.Filters.Consent, s.Filters.AgeConfirmed, s.Filters.CountryAllowed, s.Filters.NotBlocked, s.Filters.NotStaff,
            s.Filters.OneWinPerPerson, s.MinAge, s.Countries, s.RoundId, s.JuryWeight);

    private static string JsonName(string pascal) => char.ToLowerInvariant(pascal[0]) + pascal[1..];
}
