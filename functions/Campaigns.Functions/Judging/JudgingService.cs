using Campaigns.Moderation;
using Campaigns.Platform;

namespace Campaigns.Judging;

/// <summary>Rounds, blind scoring with recusal, closing and results. Entries come from Submissions' directory when deployed, else from moderation's approved items.</summary>
public sealed class JudgingService(JudgingStore store, ModerationStore moderation, TimeProvider time, IServiceProvider services)
{
    public JudgingStore Store => store;
    private IEntryDirectory? Directory => services.GetService<IEntryDirectory>();

    private async Task<RoundEntry?> LookUpEntryAsync(string campaignId, string entryId, CancellationToken ct)
    {
        if (Directory is { } d)
            return await d.GetAsync(campaignId, entryId, ct) is { Status: "approved" } e ? new RoundEntry(e.EntryId, e.OwnerFanId, e.Kind, e.Title, e.Locale) : null;
        return await moderation.GetAsync(campaignId, entryId, ct) is { Item: { Status: ReviewStatus.Approved, Hidden: false } i }
            ? new RoundEntry(i.EntryId, i.OwnerFanId, i.Kind, null, i.Locale) : null;
    }

    public async Task<(Round? Round, List<string>? ShortOf, Refusal? Refused)> CreateRoundAsync(string campaignId, RoundInput input, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await store.GetSetupAsync(campaignId, ct) is not { } setup) return (null, null, new(409, "judging_not_set_up", "Define the rubric and panel first."));
        var errors = JudgingRules.ValidateRound(input, setup.Judges.Length, now);
        if (errors.Count > 0) return (null, null, new(400, "validation_failed", string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))));
        if (await store.GetRoundAsync(campaignId, input.Id, ct) is not null) return (null, null, new(409, "round_exists", $"Round '{input.Id}' already exists."));

        List<RoundEntry> entries;
        if (input.FromRound is { } from)
        {
            var (prev, refused) = await ResultsAsync(campaignId, from, ct);
            if (refused is not null) return (null, null, refused.Code == "round_not_found" ? new(400, "from_round_not_found", refused.Detail) : refused);
            var advancing = prev!.Entries.Where(e => e.Advances).Select(e => e.EntryId).ToHashSet();
            if (advancing.Count == 0) return (null, null, new(409, "nothing_advances", $"Round '{from}' has no 'advance' count or no scored entries."));
            entries = (await store.EntriesAsync(campaignId, from, ct)).Where(e => advancing.Contains(e.EntryId)).ToList();
        }
        else
        {
            entries = [];
            var unknown = new List<string>();
            foreach (var id in input.EntryIds!)
            {
                if (await LookUpEntryAsync(campaignId, id, ct) is { } e) entries.Add(e); else unknown.Add(id);
            }
            if (unknown.Count > 0) return (null, null, new(400, "entry_not_approved", $"Not approved entries of this campaign: {string.Join(", ", unknown.Take(20))}."));
        }

        var k = input.Assignment == AssignmentMode.Balanced ? input.ScoresPerEntry ?? setup.Judges.Length : setup.Judges.Length;
        var conflicts = await store.ConflictsAsync(campaignId, ct);
        var (byJudge, shortOf) = JudgingRules.Assign($"{campaignId}|{input.Id}", entries, setup.Judges, conflicts, input.Assignment, k);
        var round = new Round(campaignId, input.Id, setup.Rubric, setup.Judges, input.Assignment, k, input.Quorum ?? k, input.Advance,
            input.Deadline, now, entries.Count);
        // Data first, the round row last: a round is visible only once complete; a retry rewrites the same data.
        await store.SaveRoundDataAsync(campaignId, input.Id, entries, input.Assignment == AssignmentMode.Balanced ? byJudge : null, ct);
        if (!await store.InsertRoundAsync(round, ct)) return (null, null, new(409, "round_exists", $"Round '{input.Id}' already exists."));
        return (round, shortOf, null);
    }

    private sealed record RoundState(Round Round, List<RoundEntry> Entries, Dictionary<string, RoundEntry> ById, Dictionary<string, List<string>> Assignments,
        HashSet<(string, string)> Conflicts, List<Score> Scores);

    private async Task<RoundState?> LoadAsync(string campaignId, string roundId, CancellationToken ct)
    {
        if (!JudgingRules.IdPattern().IsMatch(roundId) || await store.GetRoundAsync(campaignId, roundId, ct) is not { } round) return null;
        var entries = await store.EntriesAsync(campaignId, roundId, ct);
        return new(round, entries, entries.ToDictionary(e => e.EntryId), await store.AssignmentsAsync(campaignId, round, entries, ct),
            await store.ConflictsAsync(campaignId, ct), await store.ScoresAsync(campaignId, roundId, ct));
    }

    /// <summary>Counts only: how many scores each judge gave and owes. No values, no per-entry standings.</summary>
    public async Task<object?> ProgressAsync(string campaignId, string roundId, CancellationToken ct)
    {
        if (await LoadAsync(campaignId, roundId, ct) is not { } s) return null;
        var missing = JudgingRules.MissingScores(s.Assignments, s.ById, s.Conflicts, s.Scores);
        var judges = s.Round.Judges.Select(j => new { judgeId = j, scored = s.Scores.Count(x => x.JudgeId == j), missing = missing.Count(m => m.JudgeId == j) });
        return new
        {
            round = s.Round, judges, quorumReached = JudgingRules.QuorumReached(s.Round, s.Assignments, s.ById, s.Conflicts, s.Scores),
            missingScores = missing.Count,
        };
    }

    public async Task<(List<object>? Items, Refusal? Refused)> JudgeEntriesAsync(string campaignId, string roundId, string judge, CancellationToken ct)
    {
        if (!JudgingRules.IdPattern().IsMatch(roundId) || await store.GetRoundAsync(campaignId, roundId, ct) is not { } round)
            return (null, new(404, "round_not_found", "No such round."));
        if (!round.Judges.Contains(judge)) return (null, new(403, "not_on_panel", "You are not on this round's panel."));
        var entries = await store.EntriesAsync(campaignId, roundId, ct);
        var assigned = round.Assignment == AssignmentMode.All ? entries.Select(e => e.EntryId).ToHashSet()
            : (await store.AssignmentAsync(campaignId, roundId, judge, ct) ?? []).ToHashSet();
        var conflicts = await store.ConflictsAsync(campaignId, ct);
        var mine = (await store.JudgeScoresAsync(campaignId, roundId, judge, ct)).ToDictionary(s => s.EntryId);
        return (entries.Where(e => assigned.Contains(e.EntryId) && !JudgingRules.IsRecused(judge, e, conflicts))
            .OrderBy(e => e.EntryId, StringComparer.Ordinal)
            .Select(e => (object)new { e.EntryId, e.Kind, e.Title, e.Locale, myScore = mine.GetValueOrDefault(e.EntryId) }).ToList(), null);
    }

    /// <summary>A judge may see and score an entry only when on the panel, assigned, and not recused.</summary>
    public async Task<((Round Round, RoundEntry Entry)? Access, Refusal? Refused)> AccessAsync(string campaignId, string roundId, string entryId, string judge, CancellationToken ct)
    {
        if (!JudgingRules.IdPattern().IsMatch(roundId) || await store.GetRoundAsync(campaignId, roundId, ct) is not { } round)
            return (null, new(404, "round_not_found", "No such round."));
        if (!round.Judges.Contains(judge)) return (null, new(403, "not_on_panel", "You are not on this round's panel."));
        if (!ModerationRules.EntryIdPattern().IsMatch(entryId) || await store.GetEntryAsync(campaignId, roundId, entryId, ct) is not { } entry)
            return (null, new(404, "entry_not_in_round", "No such entry in this round."));
        if (JudgingRules.IsRecused(judge, entry, await store.ConflictsAsync(campaignId, ct)))
            return (null, new(403, "recused", "You are recused from this entry (a declared conflict or your own entry)."));
        if (round.Assignment == AssignmentMode.Balanced && (await store.AssignmentAsync(campaignId, roundId, judge, ct))?.Contains(entryId) != true)
            return (null, new(403, "not_assigned", "This entry is not assigned to you."));
        return ((round, entry), null);
    }

    public sealed record RoundResults(Round Round, string TieBreak, string Normalisation, List<JudgingRules.EntryResult> Entries, List<JudgingRules.Missing> MissingScores);

    public async Task<(RoundResults? Result, Refusal? Refused)> CloseAsync(string campaignId, string roundId, string actor, CancellationToken ct)
    {
        if (await LoadAsync(campaignId, roundId, ct) is not { } s) return (null, new(404, "round_not_found", "No such round."));
        var now = time.GetUtcNow();
        var quorum = JudgingRules.QuorumReached(s.Round, s.Assignments, s.ById, s.Conflicts, s.Scores);
        var (close, because, refused) = JudgingRules.CanClose(s.Round, quorum, now);
        if (!close) return (null, refused);
        if (await store.GetRoundForUpdateAsync(campaignId, roundId, ct) is not { } current || current.Round.Closed)
            return (null, new(409, "round_closed", "The round is already closed."));
        var closed = current.Round with { Closed = true, ClosedAt = now, ClosedBecause = because, ClosedBy = actor };
        if (!await store.TryReplaceRoundAsync(closed, current.ETag, ct)) return (null, new(409, "round_changed", "The round changed meanwhile; try again."));
        // Scores written before the close committed count; ValidateScore refuses any after it (and after the deadline).
        return await ResultsAsync(campaignId, roundId, ct);
    }

    public async Task<(RoundResults? Result, Refusal? Refused)> ResultsAsync(string campaignId, string roundId, CancellationToken ct)
    {
        if (await LoadAsync(campaignId, roundId, ct) is not { } s) return (null, new(404, "round_not_found", "No such round."));
        if (!s.Round.Closed && time.GetUtcNow() < s.Round.Deadline) return (null, new(409, "round_open", "Scores stay blind until the round closes."));
        if (!s.Round.Closed)
        {
            // Past the deadline the round is closed whether or not anyone asked: the first read records it.
            if (await store.GetRoundForUpdateAsync(campaignId, roundId, ct) is { Round.Closed: false } open)
                await store.TryReplaceRoundAsync(open.Round with { Closed = true, ClosedAt = open.Round.Deadline, ClosedBecause = "deadline", ClosedBy = "auto" }, open.ETag, ct);
            s = (await LoadAsync(campaignId, roundId, ct))!;
        }
        // Scores of judges later recused are left out, as they should not have judged the entry.
        var counted = s.Scores.Where(x => s.ById.TryGetValue(x.EntryId, out var e) && !JudgingRules.IsRecused(x.JudgeId, e, s.Conflicts)).ToList();
        var results = JudgingRules.Results(campaignId, s.Round, s.Entries, counted);
        return (new RoundResults(s.Round, JudgingRules.JuryTieBreakRule, "per-judge z-score", results,
            JudgingRules.MissingScores(s.Assignments, s.ById, s.Conflicts, counted)), null);
    }

    public sealed record HybridResult(HybridDeclaration Declaration, string Formula, string TieBreak, List<JudgingRules.HybridRow> Ranking);

    public async Task<(HybridResult? Result, Refusal? Refused)> PublishHybridAsync(string campaignId, HybridInput input, string actor, CancellationToken ct)
    {
        if (JudgingRules.ValidateWeights(input.JuryWeight, input.PublicWeight) is { } bad) return (null, bad);
        if (!JudgingRules.IdPattern().IsMatch(input.JuryRound ?? "") || string.IsNullOrWhiteSpace(input.VoteRound) || input.VoteRound.Length > 64)
            return (null, new(400, "validation_failed", "juryRound and voteRound are round ids."));
        var (jury, refused) = await ResultsAsync(campaignId, input.JuryRound!, ct);
        if (refused is not null) return (null, refused);
        if (services.GetService<IRevealedResults>() is not { } revealed) return (null, new(409, "votes_unavailable", "Public voting is not available in this deployment."));
        if (await revealed.GetRevealedAsync(campaignId, input.VoteRound, ct) is not { } tally)
            return (null, new(409, "votes_not_revealed", "The public vote of this round is not revealed yet."));
        var declaration = new HybridDeclaration(campaignId, input.JuryRound!, input.VoteRound, input.JuryWeight, input.PublicWeight, time.GetUtcNow(), actor, tally.RevealedAt);
        await store.SaveHybridAsync(declaration, ct);
        return (Compose(declaration, jury!, tally), null);
    }

    /// <summary>Recomputed from the closed round and the frozen tally, both immutable, so it reads the same every time.</summary>
    public async Task<(HybridResult? Result, Refusal? Refused)> PublishedHybridAsync(string campaignId, CancellationToken ct)
    {
        if (await store.GetHybridAsync(campaignId, ct) is not { } d) return (null, new(404, "result_not_published", "No hybrid result is published."));
        var (jury, refused) = await ResultsAsync(campaignId, d.JuryRound, ct);
        if (refused is not null) return (null, refused);
        if (services.GetService<IRevealedResults>() is not { } revealed || await revealed.GetRevealedAsync(campaignId, d.VoteRound, ct) is not { } tally)
            return (null, new(404, "result_not_published", "The public vote behind the result is not available."));
        return (Compose(d, jury!, tally), null);
    }

    private static HybridResult Compose(HybridDeclaration d, RoundResults jury, RevealedTally tally)
    {
        var votes = tally.Counts.Where(c => c.CategoryId == RevealedTally.EntriesCategory).GroupBy(c => c.OptionId).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var ranking = JudgingRules.Hybrid(d.CampaignId, jury.Entries, votes, d.JuryWeight, d.PublicWeight);
        return new(d, FormattableString.Invariant($"score = {d.JuryWeight:0.###} × jury + {d.PublicWeight:0.###} × public; jury = min–max of the mean per-judge z-score over the round's scored entries; public = votes ÷ the most votes of any entry"),
            JudgingRules.TieBreakRule, ranking);
    }
}
