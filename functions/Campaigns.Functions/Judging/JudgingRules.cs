using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Campaigns.Moderation;
using Campaigns.Platform;

namespace Campaigns.Judging;

/// <summary>Pure judging decisions: validation, assignment, normalisation, ranking and the hybrid score.</summary>
public static partial class JudgingRules
{
    public const int MaxCriteria = 12, MaxJudges = 50, MaxEntries = 2000, MaxScale = 100;
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$")] public static partial Regex IdPattern();

    public static Dictionary<string, string[]> ValidateSetup(SetupInput input)
    {
        var errors = new Dictionary<string, string[]>();
        var r = input.Rubric;
        if (r is null) errors["rubric"] = ["Required."];
        else
        {
            if (r.Criteria is not { Length: > 0 and <= MaxCriteria }) errors["rubric.criteria"] = [$"Give 1–{MaxCriteria} criteria."];
            else
            {
                if (r.Criteria.Any(c => c is null || !IdPattern().IsMatch(c.Id ?? ""))) errors["rubric.criteria.id"] = ["Ids are lowercase words like 'creativity'."];
                else if (r.Criteria.Select(c => c.Id).Distinct().Count() != r.Criteria.Length) errors["rubric.criteria.id"] = ["Criterion ids repeat."];
                if (r.Criteria.Any(c => c is null || !(c.Weight > 0) || c.Weight > 100)) errors["rubric.criteria.weight"] = ["Weights are positive numbers up to 100."];
                if (r.Criteria.Any(c => c is null || string.IsNullOrWhiteSpace(c.Label) || c.Label.Length > 80)) errors["rubric.criteria.label"] = ["Labels are 1–80 characters."];
            }
            if (r.ScaleMin < 0 || r.ScaleMax > MaxScale || r.ScaleMax <= r.ScaleMin) errors["rubric.scale"] = [$"0 ≤ scaleMin < scaleMax ≤ {MaxScale}."];
        }
        if (input.Judges is not { Length: > 0 and <= MaxJudges }) errors["judges"] = [$"Give 1–{MaxJudges} judges."];
        else if (input.Judges.Any(j => string.IsNullOrWhiteSpace(j) || j.Length > 200 || j.Any(char.IsControl)) || input.Judges.Distinct().Count() != input.Judges.Length)
            errors["judges"] = ["Judges are distinct subject ids."];
        return errors;
    }

    public static Dictionary<string, string[]> ValidateRound(RoundInput input, int judges, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IdPattern().IsMatch(input.Id ?? "")) errors["id"] = ["Round ids are lowercase words like 'shortlist' or 'final'."];
        if (input.Deadline <= now) errors["deadline"] = ["The deadline must be in the future."];
        if ((input.EntryIds is null) == (input.FromRound is null)) errors["entryIds"] = ["Give either entryIds or fromRound (with advance on that round)."];
        if (input.EntryIds is { } ids && (ids.Length is 0 or > MaxEntries || ids.Any(e => !ModerationRules.EntryIdPattern().IsMatch(e ?? "")) || ids.Distinct().Count() != ids.Length))
            errors["entryIds"] = [$"1–{MaxEntries} distinct entry ids."];
        if (input.FromRound is { } from && !IdPattern().IsMatch(from)) errors["fromRound"] = ["Not a round id."];
        var k = input.ScoresPerEntry ?? judges;
        if (input.Assignment == AssignmentMode.Balanced && (k < 1 || k > judges)) errors["scoresPerEntry"] = [$"Between 1 and the panel size ({judges})."];
        if (input.Quorum is { } q && (q < 1 || q > (input.Assignment == AssignmentMode.Balanced ? k : judges))) errors["quorum"] = ["Between 1 and the scores assigned per entry."];
        if (input.Advance is < 1 or > MaxEntries) errors["advance"] = ["At least 1."];
        return errors;
    }

    /// <summary>Deterministic pseudo-random order: SHA-256 of the parts, as hex. Anyone can recompute it.</summary>
    public static string HashKey(params string[] parts)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', parts))));

    public static bool IsRecused(string judge, RoundEntry entry, ISet<(string Judge, string Entry)> conflicts)
        => entry.OwnerFanId == judge || conflicts.Contains((judge, entry.EntryId));

    /// <summary>
    /// All: every judge gets every entry they are not recused from. Balanced: each entry goes to
    /// <paramref name="perEntry"/> non-recused judges, always the least loaded (ties broken by a hash of round,
    /// entry and judge), entries taken in hash order; so loads differ by at most one where recusals allow.
    /// Entries with fewer eligible judges than asked are listed as short.
    /// </summary>
    public static (Dictionary<string, List<string>> ByJudge, List<string> Short) Assign(string roundKey, IReadOnlyList<RoundEntry> entries,
        IReadOnlyList<string> judges, ISet<(string, string)> conflicts, AssignmentMode mode, int perEntry)
    {
        var byJudge = judges.ToDictionary(j => j, _ => new List<string>());
        var shortOf = new List<string>();
        foreach (var e in entries.OrderBy(e => HashKey(roundKey, e.EntryId), StringComparer.Ordinal))
        {
            var eligible = judges.Where(j => !IsRecused(j, e, conflicts)).ToList();
            var want = mode == AssignmentMode.All ? eligible.Count : perEntry;
            var chosen = eligible.OrderBy(j => byJudge[j].Count).ThenBy(j => HashKey(roundKey, e.EntryId, j), StringComparer.Ordinal).Take(want).ToList();
            if (chosen.Count < (mode == AssignmentMode.All ? judges.Count : perEntry)) shortOf.Add(e.EntryId);
            foreach (var j in chosen) byJudge[j].Add(e.EntryId);
        }
        return (byJudge, shortOf);
    }

    public static (Score? Score, Refusal? Refused) ValidateScore(Round round, string judge, string entryId, ScoreInput input, DateTimeOffset now)
    {
        if (round.Closed || now >= round.Deadline) return (null, new(409, "round_closed", "The round is closed: scores can no longer change."));
        var r = round.Rubric;
        if (input.Scores is null || input.Scores.Count == 0) return (null, new(400, "validation_failed", "Give a score for every criterion."));
        var unknown = input.Scores.Keys.Where(k => r.Criteria.All(c => c.Id != k)).ToList();
        if (unknown.Count > 0) return (null, new(400, "unknown_criterion", $"Not in the rubric: {string.Join(", ", unknown)}."));
        var missing = r.Criteria.Where(c => !input.Scores.ContainsKey(c.Id)).Select(c => c.Id).ToList();
        if (missing.Count > 0) return (null, new(400, "criterion_missing", $"Score every criterion; missing: {string.Join(", ", missing)}."));
        var outside = input.Scores.Where(kv => kv.Value < r.ScaleMin || kv.Value > r.ScaleMax).Select(kv => kv.Key).ToList();
        if (outside.Count > 0) return (null, new(400, "score_out_of_scale", $"Scores are whole numbers from {r.ScaleMin} to {r.ScaleMax}; outside: {string.Join(", ", outside)}."));
        return (new Score(judge, entryId, new(input.Scores), Total(r, input.Scores), now), null);
    }

    /// <summary>Weighted mean of the criteria, on the rubric's scale.</summary>
    public static double Total(Rubric r, IReadOnlyDictionary<string, int> scores)
        => r.Criteria.Sum(c => c.Weight * scores[c.Id]) / r.Criteria.Sum(c => c.Weight);

    /// <summary>
    /// Per-judge z-score: z = (x − μ_j) / σ_j over the totals judge j gave in the round (population σ).
    /// A judge with one score or all-equal scores expresses no preference: z = 0.
    /// </summary>
    public static Dictionary<(string Judge, string Entry), double> ZScores(IEnumerable<Score> scores)
    {
        var result = new Dictionary<(string, string), double>();
        foreach (var g in scores.GroupBy(s => s.JudgeId))
        {
            var list = g.ToList();
            var mean = list.Average(s => s.Total);
            var sd = Math.Sqrt(list.Average(s => (s.Total - mean) * (s.Total - mean)));
            foreach (var s in list) result[(s.JudgeId, s.EntryId)] = sd < 1e-12 ? 0 : (s.Total - mean) / sd;
        }
        return result;
    }

    public sealed record EntryResult(int Rank, string EntryId, string? OwnerFanId, int Scores, double? JuryScore, double? MeanTotal,
        double? Quality, bool Advances, string TieBreakKey);

    public sealed record Missing(string JudgeId, string EntryId);

    /// <summary>
    /// Ranks entries by mean z-score (desc), then mean raw total (desc), then the published tie-break key
    /// SHA-256(campaign|round|entry) ascending. Quality = min–max of the jury score over scored entries, in [0, 1].
    /// </summary>
    public static List<EntryResult> Results(string campaignId, Round round, IReadOnlyList<RoundEntry> entries, IReadOnlyList<Score> scores)
    {
        var z = ZScores(scores);
        var byEntry = scores.GroupBy(s => s.EntryId).ToDictionary(g => g.Key, g => g.ToList());
        var rows = entries.Select(e =>
        {
            var s = byEntry.GetValueOrDefault(e.EntryId) ?? [];
            double? jury = s.Count == 0 ? null : s.Average(x => z[(x.JudgeId, x.EntryId)]);
            double? mean = s.Count == 0 ? null : s.Average(x => x.Total);
            return (Entry: e, Count: s.Count, Jury: jury, Mean: mean, Key: HashKey(campaignId, round.Id, e.EntryId));
        }).ToList();
        var scored = rows.Where(r => r.Jury is not null).Select(r => r.Jury!.Value).ToList();
        var (min, max) = scored.Count == 0 ? (0d, 0d) : (scored.Min(), scored.Max());
        var ordered = rows.OrderBy(r => r.Jury is null).ThenByDescending(r => Math.Round(r.Jury ?? 0, 9)).ThenByDescending(r => Math.Round(r.Mean ?? 0, 9))
            .ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        return ordered.Select((r, i) => new EntryResult(i + 1, r.Entry.EntryId, r.Entry.OwnerFanId, r.Count,
            r.Jury is { } j ? Math.Round(j, 6) : null, r.Mean is { } m ? Math.Round(m, 6) : null,
            r.Jury is { } q ? Math.Round(max - min < 1e-12 ? 1 : (q - min) / (max - min), 6) : null,
            round.Advance is { } a && i < a && r.Jury is not null, r.Key)).ToList();
    }

    /// <summary>Assigned, not recused, not scored.</summary>
    public static List<Missing> MissingScores(Dictionary<string, List<string>> assignments, IReadOnlyDictionary<string, RoundEntry> entries,
        ISet<(string, string)> conflicts, IReadOnlyList<Score> scores)
    {
        var have = scores.Select(s => (s.JudgeId, s.EntryId)).ToHashSet();
        return assignments.SelectMany(kv => kv.Value.Select(e => (Judge: kv.Key, Entry: e)))
            .Where(p => !have.Contains(p) && entries.TryGetValue(p.Entry, out var info) && !IsRecused(p.Judge, info, conflicts))
            .Select(p => new Missing(p.Judge, p.Entry)).OrderBy(m => m.JudgeId, StringComparer.Ordinal).ThenBy(m => m.EntryId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Quorum: every entry has at least min(quorum, its assigned non-recused judges) scores.</summary>
    public static bool QuorumReached(Round round, Dictionary<string, List<string>> assignments, IReadOnlyDictionary<string, RoundEntry> entries,
        ISet<(string, string)> conflicts, IReadOnlyList<Score> scores)
    {
        var counts = scores.GroupBy(s => s.EntryId).ToDictionary(g => g.Key, g => g.Count());
        var assigned = assignments.SelectMany(kv => kv.Value.Where(e => entries.TryGetValue(e, out var info) && !IsRecused(kv.Key, info, conflicts)))
            .GroupBy(e => e).ToDictionary(g => g.Key, g => g.Count());
        return entries.Keys.All(e => counts.GetValueOrDefault(e) >= Math.Min(round.Quorum, assigned.GetValueOrDefault(e)));
    }

    public static (bool Close, string? Because, Refusal? Refused) CanClose(Round round, bool quorum, DateTimeOffset now)
    {
        if (round.Closed) return (false, null, new(409, "round_closed", "The round is already closed."));
        if (now >= round.Deadline) return (true, "deadline", null);
        if (quorum) return (true, "quorum", null);
        return (false, null, new(409, "quorum_not_reached", "Not every entry has its quorum of scores and the deadline has not passed."));
    }

    public sealed record HybridRow(int Rank, string EntryId, double Hybrid, double Jury, double Public, long Votes, double? JuryScore, string TieBreakKey);

    /// <summary>
    /// H = wJ·J + wP·P. J = the entry's jury quality (min–max of its mean z-score, [0, 1]); P = votes / the most
    /// votes any entry of the round got ([0, 1], 0 when nobody voted). Ties: higher J, then more votes, then
    /// SHA-256(campaign|hybrid|entry) ascending.
    /// </summary>
    public static List<HybridRow> Hybrid(string campaignId, IReadOnlyList<EntryResult> jury, IReadOnlyDictionary<string, long> votes, double wJury, double wPublic)
    {
        var maxVotes = jury.Select(e => votes.GetValueOrDefault(e.EntryId)).DefaultIfEmpty(0).Max();
        var rows = jury.Select(e =>
        {
            var v = votes.GetValueOrDefault(e.EntryId);
            var j = e.Quality ?? 0;
            var p = maxVotes == 0 ? 0 : (double)v / maxVotes;
            return (e.EntryId, H: Math.Round(wJury * j + wPublic * p, 9), J: j, P: Math.Round(p, 9), V: v, e.JuryScore, Key: HashKey(campaignId, "hybrid", e.EntryId));
        });
        return rows.OrderByDescending(r => r.H).ThenByDescending(r => r.J).ThenByDescending(r => r.V).ThenBy(r => r.Key, StringComparer.Ordinal)
            .Select((r, i) => new HybridRow(i + 1, r.EntryId, Math.Round(r.H, 6), r.J, Math.Round(r.P, 6), r.V, r.JuryScore, r.Key)).ToList();
    }

    /// <summary>
    /// The conflicts a closed round's results count: those declared before its close. A conflict declared later is
    /// kept (it recuses the judge in open and later rounds) but cannot change results already closed.
    /// </summary>
    public static HashSet<(string, string)> ConflictsBefore(IEnumerable<Conflict> conflicts, DateTimeOffset closedAt)
        => conflicts.Where(c => c.At < closedAt).Select(c => (c.JudgeId, c.EntryId)).ToHashSet();

    /// <summary>The canonical serialisation the results hash covers: compact JSON, camelCase, properties in declaration order.</summary>
    public static byte[] SnapshotBytes(ResultsSnapshot s) => JsonSerializer.SerializeToUtf8Bytes(s, JsonDefaults.Options);

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Why a result the weights combine is already visible (to staff or the public), or null while none is.</summary>
    public static string? Visible(string juryRoundId, Round? juryRound, string voteRoundId, DateTimeOffset? votesRevealedAt, DateTimeOffset now,
        DateTimeOffset? liveCountsFrom = null)
    {
        // Staff read a round's results once it is closed or past its deadline (the first read closes it).
        if (juryRound is { Closed: true }) return $"jury round '{juryRoundId}' closed at {juryRound.ClosedAt:O}";
        if (juryRound is not null && now >= juryRound.Deadline) return $"jury round '{juryRoundId}' passed its deadline at {juryRound.Deadline:O}";
        if (votesRevealedAt is { } at) return $"vote round '{voteRoundId}' was revealed at {at:O}";
        // Owners and marketers watch live counts of a ballot that does not seal them: as good as a visible result.
        if (liveCountsFrom is { } live && now >= live) return $"vote round '{voteRoundId}' shows live counts to staff since {live:O}";
        return null;
    }

    /// <summary>
    /// Weights are chosen while nobody can see a result they combine, so they cannot be picked to favour a known
    /// outcome. Until then they may be replaced; afterwards only the identical declaration is accepted (a retry,
    /// answered with the declaration unchanged). <paramref name="visible"/> is why a result of the new or the current
    /// declaration's rounds is visible, or null.
    /// </summary>
    public static (HybridDeclaration? Value, Refusal? Refused) DeclareHybrid(HybridDeclaration? current, string campaignId, HybridInput input,
        string? visible, string actor, DateTimeOffset now)
    {
        if (current is not null && current.JuryRound == input.JuryRound && current.VoteRound == input.VoteRound
            && current.JuryWeight == input.JuryWeight && current.PublicWeight == input.PublicWeight)
            return (current, null);
        if (visible is not null)
            return (null, new(409, "hybrid_frozen", $"The hybrid weights are fixed: {visible}. Only the declared weights can be re-sent."));
        return (new HybridDeclaration(campaignId, input.JuryRound, input.VoteRound, input.JuryWeight, input.PublicWeight, now, actor), null);
    }

    public static Refusal? ValidateWeights(double jury, double pub)
    {
        if (jury < 0 || pub < 0 || double.IsNaN(jury) || double.IsNaN(pub) || Math.Abs(jury + pub - 1) > 1e-9)
            return new(400, "invalid_weights", "juryWeight and publicWeight are between 0 and 1 and add up to 1 (e.g. 0.5 and 0.5).");
        return null;
    }

    public const string TieBreakRule = "Ranked by the score descending; ties by the jury component descending, then public votes descending, then SHA-256(\"{campaignId}|hybrid|{entryId}\") as lowercase hex ascending.";
    public const string JuryTieBreakRule = "Ranked by mean per-judge z-score descending, then mean weighted total descending, then SHA-256(\"{campaignId}|{roundId}|{entryId}\") as lowercase hex ascending.";
}
