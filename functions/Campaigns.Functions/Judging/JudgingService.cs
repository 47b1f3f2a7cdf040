using System.Text.Json;
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

    /// <summary>Results as served; after the close always the stored snapshot and the SHA-256 of its canonical bytes.</summary>
    public sealed record RoundResults(Round Round, string TieBreak, string Normalisation, List<JudgingRules.EntryResult> Entries,
        List<JudgingRules.Missing> MissingScores, string ResultsSha256);

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
        if (await store.TryReplaceRoundAsync(closed, current.ETag, ct) is null) return (null, new(409, "round_changed", "The round changed meanwhile; try again."));
        // Scores written before the close committed count; ValidateScore refuses any after it (and after the deadline).
        return await ResultsAsync(campaignId, roundId, ct);
    }

    /// <summary>
    /// A closed round's results are computed once, stored as a snapshot with its hash, and served from it ever after, so
    /// nothing declared later (a conflict) can change them. The snapshot is taken by the first read after the close (the
    /// close itself reads), which also records a close at the deadline; a crash between close and snapshot is repaired by
    /// the next read, and concurrent readers agree through the round's ETag.
    /// </summary>
    public async Task<(RoundResults? Result, Refusal? Refused)> ResultsAsync(string campaignId, string roundId, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (!JudgingRules.IdPattern().IsMatch(roundId) || await store.GetRoundForUpdateAsync(campaignId, roundId, ct) is not { } found)
                return (null, new(404, "round_not_found", "No such round."));
            var (round, etag) = found;
            if (!round.Closed && time.GetUtcNow() < round.Deadline) return (null, new(409, "round_open", "Scores stay blind until the round closes."));
            if (!round.Closed)
            {
                // Past the deadline the round is closed whether or not anyone asked: the first read records it.
                round = round with { Closed = true, ClosedAt = round.Deadline, ClosedBecause = "deadline", ClosedBy = "auto" };
                if (await store.TryReplaceRoundAsync(round, etag, ct) is not { } closedTag) continue;
                etag = closedTag;
            }
            if (round.ResultsSha256 is { } sha) return (Serve(round, sha, await store.GetSnapshotAsync(campaignId, roundId, sha, ct)), null);

            var snapshot = await SnapshotAsync(campaignId, round, ct);
            var bytes = JudgingRules.SnapshotBytes(snapshot);
            var hash = JudgingRules.Sha256Hex(bytes);
            await store.SaveSnapshotAsync(campaignId, roundId, hash, bytes, ct);
            round = round with { ResultsSha256 = hash };
            if (await store.TryReplaceRoundAsync(round, etag, ct) is null) continue; // another reader stored one first: serve theirs
            return (Serve(round, hash, bytes), null);
        }
        return (null, new(409, "round_changed", "The round changed meanwhile; try again."));
    }

    private async Task<ResultsSnapshot> SnapshotAsync(string campaignId, Round round, CancellationToken ct)
    {
        var entries = await store.EntriesAsync(campaignId, round.Id, ct);
        var byId = entries.ToDictionary(e => e.EntryId);
        var assignments = await store.AssignmentsAsync(campaignId, round, entries, ct);
        var conflicts = JudgingRules.ConflictsBefore(await store.ConflictListAsync(campaignId, ct), round.ClosedAt!.Value);
        // Scores of judges recused before the close are left out, as they should not have judged the entry.
        var counted = (await store.ScoresAsync(campaignId, round.Id, ct))
            .Where(x => byId.TryGetValue(x.EntryId, out var e) && !JudgingRules.IsRecused(x.JudgeId, e, conflicts)).ToList();
        return new ResultsSnapshot(ResultsSnapshot.FormatVersion, campaignId, round.Id, round.ClosedAt.Value, round.ClosedBecause ?? "deadline",
            JudgingRules.JuryTieBreakRule, "per-judge z-score", JudgingRules.Results(campaignId, round, entries, counted),
            JudgingRules.MissingScores(assignments, byId, conflicts, counted));
    }

    private static RoundResults Serve(Round round, string sha, byte[]? bytes)
    {
        // The hash is checked on every read: a snapshot that no longer matches is a storage fault, not a result.
        if (bytes is null || JudgingRules.Sha256Hex(bytes) != sha)
            throw new InvalidDataException($"The results snapshot of round {round.CampaignId}/{round.Id} is missing or does not match its hash {sha}.");
        var s = JsonSerializer.Deserialize<ResultsSnapshot>(bytes, JsonDefaults.Options)!;
        return new RoundResults(round, s.TieBreak, s.Normalisation, s.Entries, s.MissingScores, sha);
    }

    /// <summary>"declared" until both results it combines are visible; then "published" with the ranking.</summary>
    public sealed record HybridResult(string Status, HybridDeclaration Declaration, string Formula, string TieBreak, List<JudgingRules.HybridRow>? Ranking);

    public async Task<(HybridResult? Result, Refusal? Refused)> PublishHybridAsync(string campaignId, HybridInput input, string actor, CancellationToken ct)
    {
        if (JudgingRules.ValidateWeights(input.JuryWeight, input.PublicWeight) is { } bad) return (null, bad);
        if (!JudgingRules.IdPattern().IsMatch(input.JuryRound ?? "") || string.IsNullOrWhiteSpace(input.VoteRound) || input.VoteRound.Length > 64)
            return (null, new(400, "validation_failed", "juryRound and voteRound are round ids."));
        if (await store.GetRoundAsync(campaignId, input.JuryRound!, ct) is not { } juryRound) return (null, new(404, "round_not_found", "No such round."));
        if (services.GetService<IRevealedResults>() is not { } revealed) return (null, new(409, "votes_unavailable", "Public voting is not available in this deployment."));
        var current = await store.GetHybridForUpdateAsync(campaignId, ct);
        var now = time.GetUtcNow();
        // Frozen when a result of the new pair of rounds, or of the pair declared so far, can already be seen.
        var visible = JudgingRules.Visible(input.JuryRound!, juryRound, input.VoteRound, (await revealed.GetRevealedAsync(campaignId, input.VoteRound, ct))?.RevealedAt,
            now, await revealed.LiveCountsVisibleFromAsync(campaignId, input.VoteRound, ct));
        if (visible is null && current?.Declaration is { } d && (d.JuryRound, d.VoteRound) != (input.JuryRound, input.VoteRound))
            visible = JudgingRules.Visible(d.JuryRound, await store.GetRoundAsync(campaignId, d.JuryRound, ct), d.VoteRound,
                (await revealed.GetRevealedAsync(campaignId, d.VoteRound, ct))?.RevealedAt, now, await revealed.LiveCountsVisibleFromAsync(campaignId, d.VoteRound, ct));
        var (declaration, refused) = JudgingRules.DeclareHybrid(current?.Declaration, campaignId, input, visible, actor, now);
        if (refused is not null) return (null, refused);
        if (!ReferenceEquals(declaration, current?.Declaration) && !await store.TrySaveHybridAsync(declaration!, current?.ETag, ct))
            return (null, new(409, "hybrid_changed", "The hybrid declaration changed meanwhile; read it and try again."));
        return await ViewAsync(declaration!, revealed, ct);
    }

    /// <summary>Recomputed from the closed round's snapshot and the frozen tally, both immutable, so it reads the same every time.</summary>
    // Once published a hybrid result never changes (its weights froze when the first result became visible, the jury
    // snapshot and the revealed tally are immutable), so the reveal-night traffic is served from memory.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HybridResult> _published = new();

    /// <summary>The public hybrid result; a published one is computed once per instance.</summary>
    public async Task<(HybridResult? Result, Refusal? Refused)> PublishedHybridAsync(string campaignId, CancellationToken ct)
    {
        if (_published.TryGetValue(campaignId, out var done)) return (done, null);
        var (result, refused) = await ComputePublishedHybridAsync(campaignId, ct);
        if (result is { Status: "published" }) _published.TryAdd(campaignId, result);
        return (result, refused);
    }

    private async Task<(HybridResult? Result, Refusal? Refused)> ComputePublishedHybridAsync(string campaignId, CancellationToken ct)
    {
        if (await store.GetHybridAsync(campaignId, ct) is not { } d) return (null, new(404, "result_not_published", "No hybrid result is published."));
        if (services.GetService<IRevealedResults>() is not { } revealed) return (null, new(404, "result_not_published", "The public vote behind the result is not available."));
        return await ViewAsync(d, revealed, ct);
    }

    private async Task<(HybridResult? Result, Refusal? Refused)> ViewAsync(HybridDeclaration d, IRevealedResults revealed, CancellationToken ct)
    {
        // The ranking appears only once the votes are revealed and the jury round is closed (or past its deadline).
        if (await revealed.GetRevealedAsync(d.CampaignId, d.VoteRound, ct) is not { } tally
            || await store.GetRoundAsync(d.CampaignId, d.JuryRound, ct) is not { } round || (!round.Closed && time.GetUtcNow() < round.Deadline))
            return (Compose(d, null, null), null);
        var (jury, refused) = await ResultsAsync(d.CampaignId, d.JuryRound, ct);
        return refused is not null ? (null, refused) : (Compose(d with { VotesRevealedAt = tally.RevealedAt }, jury, tally), null);
    }

    private static HybridResult Compose(HybridDeclaration d, RoundResults? jury, RevealedTally? tally)
    {
        var votes = tally?.Counts.Where(c => c.CategoryId == RevealedTally.EntriesCategory).GroupBy(c => c.OptionId).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var ranking = jury is null || votes is null ? null : JudgingRules.Hybrid(d.CampaignId, jury.Entries, votes, d.JuryWeight, d.PublicWeight);
        return new(ranking is null ? "declared" : "published", d, FormattableString.Invariant($"score = {d.JuryWeight:0.###} × jury + {d.PublicWeight:0.###} × public; jury = min–max of the mean per-judge z-score over the round's scored entries; public = votes ÷ the most votes of any entry"),
            JudgingRules.TieBreakRule, ranking);
    }
}
