using Campaigns.Judging;
using Campaigns.Moderation;

namespace Campaigns.Tests.Judging;

public sealed class JudgingRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly Rubric Rubric = new([new("story", "Story", 2), new("photo", "Photo", 1)], 1, 10);

    private static Round Round(int? advance = null) => new("c-test", "shortlist", Rubric, ["a", "b"], AssignmentMode.All, 2, 2, advance, T0.AddDays(1), T0, 3);
    private static Score S(string judge, string entry, double total) => new(judge, entry, [], total, T0);
    private static RoundEntry E(string id, string owner = "owner") => new(id, owner + "-" + id, "photo", null, null);

    [Fact]
    public void Weighted_total_is_the_weighted_mean_on_the_scale()
        => Assert.Equal((2 * 9 + 1 * 6) / 3.0, JudgingRules.Total(Rubric, new Dictionary<string, int> { ["story"] = 9, ["photo"] = 6 }));

    [Fact]
    public void Z_scores_and_ranking_match_a_hand_computed_example()
    {
        // Judge a: 8, 6, 4 → μ 6, σ √(8/3) = 1.632993 → z 1.224745, 0, −1.224745.
        // Judge b (harsher, narrower): 5, 5, 2 → μ 4, σ √2 → z 0.707107, 0.707107, −1.414214.
        // Entry means: e1 0.965926, e2 0.353553, e3 −1.319479. Quality (min–max): 1, 1.673033 / 2.285405 = 0.732051, 0.
        var scores = new[] { S("a", "e1", 8), S("a", "e2", 6), S("a", "e3", 4), S("b", "e1", 5), S("b", "e2", 5), S("b", "e3", 2) };
        var z = JudgingRules.ZScores(scores);
        Assert.Equal(1.224745, z[("a", "e1")], 6);
        Assert.Equal(0.707107, z[("b", "e2")], 6);
        Assert.Equal(-1.414214, z[("b", "e3")], 6);

        var results = JudgingRules.Results("c-test", Round(advance: 2), [E("e3"), E("e2"), E("e1"), E("e4")], scores);
        Assert.Equal(["e1", "e2", "e3", "e4"], results.Select(r => r.EntryId));
        Assert.Equal(0.965926, results[0].JuryScore!.Value, 6);
        Assert.Equal(0.353553, results[1].JuryScore!.Value, 6);
        Assert.Equal(-1.319479, results[2].JuryScore!.Value, 6);
        Assert.Equal([1, 0.732051, 0], results.Take(3).Select(r => r.Quality!.Value));
        Assert.Equal([true, true, false, false], results.Select(r => r.Advances));
        Assert.Null(results[3].JuryScore); // unscored entries come last and never advance
        Assert.Equal(6.5, results[0].MeanTotal);
    }

    [Fact]
    public void A_judge_without_spread_contributes_zero_and_exact_ties_fall_to_the_published_hash()
    {
        var scores = new[] { S("a", "x", 7), S("a", "y", 7) };
        var results = JudgingRules.Results("c-test", Round(), [E("x"), E("y")], scores);
        Assert.All(results, r => Assert.Equal(0, r.JuryScore));
        var expected = new[] { "x", "y" }.OrderBy(id => JudgingRules.HashKey("c-test", "shortlist", id), StringComparer.Ordinal);
        Assert.Equal(expected, results.Select(r => r.EntryId));
        Assert.Equal(JudgingRules.HashKey("c-test", "shortlist", results[0].EntryId), results[0].TieBreakKey);
    }

    [Fact]
    public void Hybrid_score_matches_a_hand_computed_example_with_the_published_tie_break()
    {
        var jury = new List<JudgingRules.EntryResult>
        {
            new(1, "e1", "f1", 2, 0.9, 7, 1.0, false, ""),
            new(2, "e2", "f2", 2, 0.3, 6, 0.6, false, ""),
            new(3, "e3", "f3", 2, -0.2, 5, 0.4, false, ""),
            new(4, "e4", "f4", 2, -1, 3, 0.0, false, ""),
        };
        var votes = new Dictionary<string, long> { ["e1"] = 10, ["e2"] = 40, ["e3"] = 20, ["e4"] = 80 };
        // 0.5·J + 0.5·(v / 80): e1 0.5 + 0.0625 = 0.5625; e2 0.3 + 0.25 = 0.55; e3 0.2 + 0.125 = 0.325; e4 0 + 0.5 = 0.5.
        var rows = JudgingRules.Hybrid("c-test", jury, votes, 0.5, 0.5);
        Assert.Equal(["e1", "e2", "e4", "e3"], rows.Select(r => r.EntryId));
        Assert.Equal([0.5625, 0.55, 0.5, 0.325], rows.Select(r => r.Hybrid));
        Assert.Equal(0.125, rows.Single(r => r.EntryId == "e1").Public);

        // 0.4·J + 0.6·P: e2 0.24 + 0.3 = 0.54 and e4 0 + 0.6 = 0.6; e1 0.4 + 0.075 = 0.475; e3 0.16 + 0.15 = 0.31.
        Assert.Equal(["e4", "e2", "e1", "e3"], JudgingRules.Hybrid("c-test", jury, votes, 0.4, 0.6).Select(r => r.EntryId));

        // Equal hybrid: higher jury first; equal jury too: more votes; all equal: hash ascending.
        var tie = new List<JudgingRules.EntryResult> { new(1, "p", null, 1, 0, 0, 0.5, false, ""), new(2, "q", null, 1, 0, 0, 1.0, false, "") };
        // p: 0.5·0.5 + 0.5·1 = 0.75; q: 0.5·1 + 0.5·0.5 = 0.75 → q (higher jury) first.
        Assert.Equal(["q", "p"], JudgingRules.Hybrid("c-test", tie, new Dictionary<string, long> { ["p"] = 10, ["q"] = 5 }, 0.5, 0.5).Select(r => r.EntryId));
        var same = new List<JudgingRules.EntryResult> { new(1, "m", null, 1, 0, 0, 0.5, false, ""), new(2, "n", null, 1, 0, 0, 0.5, false, "") };
        var byHash = new[] { "m", "n" }.OrderBy(id => JudgingRules.HashKey("c-test", "hybrid", id), StringComparer.Ordinal);
        Assert.Equal(byHash, JudgingRules.Hybrid("c-test", same, new Dictionary<string, long> { ["m"] = 3, ["n"] = 3 }, 0.5, 0.5).Select(r => r.EntryId));
        Assert.NotNull(JudgingRules.ValidateWeights(0.5, 0.6));
        Assert.NotNull(JudgingRules.ValidateWeights(-0.1, 1.1));
        Assert.Null(JudgingRules.ValidateWeights(0.3, 0.7));
    }

    [Fact]
    public void Balanced_assignment_gives_each_entry_k_judges_evenly_and_never_a_recused_one()
    {
        var judges = new[] { "j1", "j2", "j3", "j4", "j5" };
        var entries = Enumerable.Range(1, 40).Select(i => new RoundEntry($"e{i}", i == 7 ? "j2" : $"fan{i}", "photo", null, null)).ToList();
        var conflicts = new HashSet<(string, string)> { ("j1", "e3"), ("j3", "e3") };
        var (byJudge, shortOf) = JudgingRules.Assign("c|r", entries, judges, conflicts, AssignmentMode.Balanced, 3);
        Assert.Empty(shortOf);
        foreach (var e in entries) Assert.Equal(3, byJudge.Count(kv => kv.Value.Contains(e.EntryId)));
        Assert.DoesNotContain("e3", byJudge["j1"]);
        Assert.DoesNotContain("e3", byJudge["j3"]);
        Assert.DoesNotContain("e7", byJudge["j2"]); // j2 owns e7
        Assert.True(byJudge.Values.Max(l => l.Count) - byJudge.Values.Min(l => l.Count) <= 1, string.Join(",", byJudge.Values.Select(l => l.Count)));
        // Deterministic: the same inputs give the same assignment.
        Assert.Equal(byJudge["j4"], JudgingRules.Assign("c|r", entries, judges, conflicts, AssignmentMode.Balanced, 3).ByJudge["j4"]);

        var (all, shortAll) = JudgingRules.Assign("c|r", entries, judges, conflicts, AssignmentMode.All, 5);
        Assert.Equal(["e3", "e7"], shortAll.Order());
        Assert.Equal(39, all["j1"].Count);
    }

    [Fact]
    public void Scores_outside_the_scale_unknown_criteria_and_closed_rounds_are_refused()
    {
        var round = Round();
        Assert.Equal("score_out_of_scale", Code(new() { ["story"] = 11, ["photo"] = 5 }));
        Assert.Equal("score_out_of_scale", Code(new() { ["story"] = 0, ["photo"] = 5 }));
        Assert.Equal("unknown_criterion", Code(new() { ["story"] = 5, ["photo"] = 5, ["colour"] = 5 }));
        Assert.Equal("criterion_missing", Code(new() { ["story"] = 5 }));
        Assert.Equal("round_closed", JudgingRules.ValidateScore(round with { Closed = true }, "a", "e1", new(new() { ["story"] = 5, ["photo"] = 5 }), T0).Refused!.Code);
        Assert.Equal("round_closed", JudgingRules.ValidateScore(round, "a", "e1", new(new() { ["story"] = 5, ["photo"] = 5 }), round.Deadline).Refused!.Code);
        Assert.Equal(6, JudgingRules.ValidateScore(round, "a", "e1", new(new() { ["story"] = 7, ["photo"] = 4 }), T0).Score!.Total);

        string Code(Dictionary<string, int> s) => JudgingRules.ValidateScore(round, "a", "e1", new(s), T0).Refused!.Code;
    }

    [Fact]
    public void Engagement_rate_and_jury_blend_match_a_hand_computed_example()
    {
        var fans = new[]
        {
            new EngagementRules.FanCounts("ann", 2, 10, 4, 0.5),   // (6 + 10 + 2) / 10 days = 1.8
            new EngagementRules.FanCounts("bob", 0, 30, 0, null),  // 30 / 10 = 3.0
            new EngagementRules.FanCounts("cat", 1, 3, 20, 1.0),   // (3 + 3 + 10) / 10 = 1.6
            new EngagementRules.FanCounts("dan", 0, 0, 0, null),   // nothing: not listed
        };
        var plain = EngagementRules.Rank("c-test", fans, 10, 0);
        Assert.Equal(["bob", "ann", "cat"], plain.Select(r => r.FanId));
        Assert.Equal([3.0, 1.8, 1.6], plain.Select(r => r.InteractionRate));
        Assert.Equal([1, 0.6, 0.533333], plain.Select(r => r.Score));

        // q = 0.5: bob 0.5·1 + 0 = 0.5; ann 0.5·0.6 + 0.5·0.5 = 0.55; cat 0.5·0.533333 + 0.5·1 = 0.766667.
        var blended = EngagementRules.Rank("c-test", fans, 10, 0.5);
        Assert.Equal(["cat", "ann", "bob"], blended.Select(r => r.FanId));
        Assert.Equal(0.766667, blended[0].Score);

        var csv = EngagementRules.Csv([plain[0] with { FanId = "=cmd,\"x\"" }]);
        Assert.Equal("rank,fanId,approvedEntries,votesCast,reactionsReceived,interactionRate,juryQuality,score\n1,\"'=cmd,\"\"x\"\"\",0,30,0,3,,1\n", csv);
    }

    [Fact]
    public void Hybrid_weights_can_change_until_a_result_they_combine_is_visible_and_only_the_same_weights_are_accepted_after()
    {
        var input = new HybridInput("final", "public", 0.5, 0.5);
        var (first, none) = JudgingRules.DeclareHybrid(null, "c-test", input, null, "mk", T0);
        Assert.Null(none);
        Assert.Equal((0.5, T0, "mk"), (first!.JuryWeight, first.PublishedAt, first.PublishedBy));
        Assert.Same(first, JudgingRules.DeclareHybrid(first, "c-test", input, "jury round closed", "mk", T0.AddDays(1)).Value);
        Assert.Equal(0.6, JudgingRules.DeclareHybrid(first, "c-test", input with { JuryWeight = 0.6, PublicWeight = 0.4 }, null, "mk", T0).Value!.JuryWeight);
        Assert.Equal("hybrid_frozen", JudgingRules.DeclareHybrid(first, "c-test", input with { JuryWeight = 0.6, PublicWeight = 0.4 }, "votes revealed", "mk", T0).Refused!.Code);
        Assert.Equal("hybrid_frozen", JudgingRules.DeclareHybrid(null, "c-test", input, "votes revealed", "mk", T0).Refused!.Code);

        var open = Round();
        Assert.Null(JudgingRules.Visible("final", open, "public", null, T0));
        Assert.Null(JudgingRules.Visible("final", null, "public", null, T0));
        Assert.Contains("deadline", JudgingRules.Visible("final", open, "public", null, open.Deadline));
        Assert.Contains("closed", JudgingRules.Visible("final", open with { Closed = true, ClosedAt = T0 }, "public", null, T0));
        Assert.Contains("revealed", JudgingRules.Visible("final", open, "public", T0, T0));
    }

    [Fact]
    public void A_closed_round_counts_only_conflicts_declared_before_its_close_and_its_snapshot_bytes_are_stable()
    {
        var conflicts = new[] { new Conflict("c-test", "a", "e1", null, "a", T0), new Conflict("c-test", "b", "e2", null, "b", T0.AddHours(2)) };
        Assert.Equal([("a", "e1")], JudgingRules.ConflictsBefore(conflicts, T0.AddHours(1)));
        Assert.Empty(JudgingRules.ConflictsBefore(conflicts, T0));

        var results = JudgingRules.Results("c-test", Round(advance: 1), [E("e1"), E("e2")], [S("a", "e1", 8), S("a", "e2", 6)]);
        var snapshot = new ResultsSnapshot(ResultsSnapshot.FormatVersion, "c-test", "shortlist", T0, "quorum", JudgingRules.JuryTieBreakRule, "per-judge z-score", results, []);
        var bytes = JudgingRules.SnapshotBytes(snapshot);
        var again = System.Text.Json.JsonSerializer.Deserialize<ResultsSnapshot>(bytes, global::Campaigns.Platform.JsonDefaults.Options)!;
        Assert.Equal(bytes, JudgingRules.SnapshotBytes(again));
        Assert.StartsWith("{\"format\":\"campaigns-judging-results/1\",", System.Text.Encoding.UTF8.GetString(bytes));
        Assert.Matches("^[0-9a-f]{64}$", JudgingRules.Sha256Hex(bytes));
    }
}
