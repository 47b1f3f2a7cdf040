using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Judging;
using Campaigns.Moderation;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Moderation;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.Judging;

public sealed class JudgingApiTests
{

    internal static async Task<(TestApp App, FakeTimeProvider Time, FakeEntries Entries, FakeVotes Votes)> Start()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var entries = new FakeEntries();
        var votes = new FakeVotes();
        var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddSingleton<IEntryModeration>(entries);
            b.Services.AddSingleton<IEntryDirectory>(entries);
            b.Services.AddSingleton<IRevealedResults>(votes);
            b.Services.AddSingleton<IFanVoteCounts>(votes);
        });
        return (app, time, entries, votes);
    }

    internal static object Scores(int story, int photo) => new { scores = new Dictionary<string, int> { ["story"] = story, ["photo"] = photo } };

    private static string[] Listed(JsonElement list) => list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()!).ToArray();

    [Fact]
    public async Task Blind_rounds_with_recusal_close_at_deadline_listing_missing_scores_and_feed_a_published_hybrid_result()
    {
        var (app, time, entries, votes) = await Start();
        await using var _ = app;
        var c = await app.CampaignAsync();
        var now = time.GetUtcNow();
        foreach (var (id, owner) in new[] { ("e1", "fan-a"), ("e2", "j3"), ("e3", "fan-b"), ("e4", "fan-c") }) entries.Add(c, id, owner, "approved", now);
        entries.Add(c, "e5", "fan-d", "pending", now);
        var marketer = app.As("marketer");
        var j1 = app.As("judge", "j1");
        var j2 = app.As("judge", "j2");
        var j3 = app.As("judge", "j3");
        var outsider = app.As("judge", "j9");
        var url = $"/api/judging/campaigns/{c}";

        await (await marketer.PutAsJsonAsync($"{url}/setup", new { rubric = new { criteria = new[] { new { id = "story", label = "Story", weight = 2 } }, scaleMin = 5, scaleMax = 1 }, judges = new[] { "j1" } }))
            .Problem(400, "validation_failed");
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"{url}/setup", new
        {
            rubric = new { criteria = new[] { new { id = "story", label = "Story", weight = 2.0 }, new { id = "photo", label = "Photo", weight = 1.0 } }, scaleMin = 1, scaleMax = 10 },
            judges = new[] { "j1", "j2", "j3" },
        })).StatusCode);
        Assert.Equal(200, (int)(await j1.PostAsJsonAsync($"{url}/conflicts", new { entryId = "e3", reason = "my cousin" })).StatusCode);
        await (await outsider.PostAsJsonAsync($"{url}/conflicts", new { entryId = "e3" })).Problem(403, "not_on_panel");

        var deadline = now.AddMinutes(30);
        await (await marketer.PostAsJsonAsync($"{url}/rounds", new { id = "shortlist", deadline, entryIds = new[] { "e1", "e5" } })).Problem(400, "entry_not_approved");
        var created = await marketer.PostAsJsonAsync($"{url}/rounds", new { id = "shortlist", deadline, entryIds = new[] { "e1", "e2", "e3", "e4" }, advance = 2 });
        Assert.Equal(201, (int)created.StatusCode);
        Assert.Equal(["e2", "e3"], (await created.Json()).GetProperty("entriesShortOfJudges").EnumerateArray().Select(x => x.GetString()).Order());
        await (await marketer.PostAsJsonAsync($"{url}/rounds", new { id = "shortlist", deadline, entryIds = new[] { "e1" } })).Problem(409, "round_exists");

        // Recusal: declared conflict (j1/e3) and own entry (j3/e2) are never listed and answer 403.
        Assert.Equal(["e1", "e2", "e4"], Listed(await (await j1.GetAsync($"{url}/rounds/shortlist/entries")).Json()));
        Assert.Equal(["e1", "e3", "e4"], Listed(await (await j3.GetAsync($"{url}/rounds/shortlist/entries")).Json()));
        await (await j1.GetAsync($"{url}/rounds/shortlist/entries/e3")).Problem(403, "recused");
        await (await j3.GetAsync($"{url}/rounds/shortlist/entries/e2")).Problem(403, "recused");
        await (await j1.PutAsJsonAsync($"{url}/rounds/shortlist/entries/e3/score", Scores(9, 9))).Problem(403, "recused");
        await (await outsider.GetAsync($"{url}/rounds/shortlist/entries")).Problem(403, "not_on_panel");
        Assert.Equal(200, (int)(await j1.GetAsync($"{url}/rounds/shortlist/entries/e1")).StatusCode);

        // Bad scores.
        await (await j1.PutAsJsonAsync($"{url}/rounds/shortlist/entries/e1/score", Scores(11, 5))).Problem(400, "score_out_of_scale");
        await (await j1.PutAsJsonAsync($"{url}/rounds/shortlist/entries/e1/score", new { scores = new Dictionary<string, int> { ["story"] = 5, ["photo"] = 5, ["wow"] = 5 } })).Problem(400, "unknown_criterion");
        await (await j1.PutAsJsonAsync($"{url}/rounds/shortlist/entries/e9/score", Scores(5, 5))).Problem(404, "entry_not_in_round");

        // Totals (story = photo, so total = the value): j1 e1 8, e2 6, e4 4; j2 e1 6, e2 6, e3 2, e4 2; j3 e1 9, e3 5, and never scores e4.
        foreach (var (judge, entry, v) in new[] { (j1, "e1", 8), (j1, "e2", 6), (j1, "e4", 4), (j2, "e1", 6), (j2, "e2", 6), (j2, "e3", 2), (j2, "e4", 2), (j3, "e1", 9), (j3, "e3", 5) })
            Assert.Equal(200, (int)(await judge.PutAsJsonAsync($"{url}/rounds/shortlist/entries/{entry}/score", Scores(v, v))).StatusCode);

        // Blind: a judge sees only their own scores; nobody sees results before the close.
        var j2List = (await (await j2.GetAsync($"{url}/rounds/shortlist/entries")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([6.0, 6, 2, 2], j2List.Select(i => i.GetProperty("myScore").GetProperty("total").GetDouble()));
        var j3e1 = await (await j3.GetAsync($"{url}/rounds/shortlist/entries/e1")).Json();
        Assert.Equal(9, j3e1.GetProperty("myScore").GetProperty("total").GetDouble());
        Assert.DoesNotContain("\"total\":8", j3e1.GetRawText());
        Assert.DoesNotContain("fan-a", j3e1.GetRawText()); // judges never see who made the entry
        await (await marketer.GetAsync($"{url}/rounds/shortlist/results")).Problem(409, "round_open");
        await (await j1.GetAsync($"{url}/rounds/shortlist/results")).Problem(409, "round_open");
        var progress = await (await marketer.GetAsync($"{url}/rounds/shortlist")).Json();
        Assert.False(progress.GetProperty("quorumReached").GetBoolean());
        Assert.DoesNotContain("total", progress.GetRawText());

        // Late judge j3 does not block the round: before the deadline it cannot close, after it it closes without e4's third score.
        await (await marketer.PostAsync($"{url}/rounds/shortlist/close", null)).Problem(409, "quorum_not_reached");
        time.Advance(TimeSpan.FromMinutes(31));
        await (await j3.PutAsJsonAsync($"{url}/rounds/shortlist/entries/e4/score", Scores(5, 5))).Problem(409, "round_closed");
        var closed = await marketer.PostAsync($"{url}/rounds/shortlist/close", null);
        Assert.Equal(200, (int)closed.StatusCode);
        var results = await closed.Json();
        Assert.Equal("deadline", results.GetProperty("round").GetProperty("closedBecause").GetString());
        var missing = Assert.Single(results.GetProperty("missingScores").EnumerateArray());
        Assert.Equal(("j3", "e4"), (missing.GetProperty("judgeId").GetString(), missing.GetProperty("entryId").GetString()));

        // Hand-computed: z(j1) = 1.224745, 0, −1.224745; z(j2) = 1, 1, −1, −1; z(j3) = 1, −1.
        // e1 (1.224745 + 1 + 1) / 3 = 1.074915; e2 (0 + 1) / 2 = 0.5; e3 (−1 − 1) / 2 = −1; e4 (−1.224745 − 1) / 2 = −1.112372.
        var ranked = results.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["e1", "e2", "e3", "e4"], ranked.Select(r => r.GetProperty("entryId").GetString()));
        Assert.Equal([1.074915, 0.5, -1, -1.112372], ranked.Select(r => r.GetProperty("juryScore").GetDouble()));
        Assert.Equal([true, true, false, false], ranked.Select(r => r.GetProperty("advances").GetBoolean()));
        await (await marketer.PostAsync($"{url}/rounds/shortlist/close", null)).Problem(409, "round_closed");

        // Final round from the shortlist; all judges, j3 recused from own e2.
        var finalDeadline = time.GetUtcNow().AddMinutes(30);
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync($"{url}/rounds", new { id = "final", deadline = finalDeadline, fromRound = "shortlist" })).StatusCode);
        // The hybrid weights are declared while no result they combine is visible: the final round is open, the votes sealed.
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", new { juryRound = "final", voteRound = "public", juryWeight = 0.5, publicWeight = 0.5 })).StatusCode);
        Assert.Equal(["e1"], Listed(await (await j3.GetAsync($"{url}/rounds/final/entries")).Json()));
        foreach (var (judge, entry, v) in new[] { (j1, "e1", 9), (j1, "e2", 3), (j2, "e1", 4), (j2, "e2", 8) })
            Assert.Equal(200, (int)(await judge.PutAsJsonAsync($"{url}/rounds/final/entries/{entry}/score", Scores(v, v))).StatusCode);
        await (await marketer.PostAsync($"{url}/rounds/final/close", null)).Problem(409, "quorum_not_reached");
        Assert.Equal(200, (int)(await j3.PutAsJsonAsync($"{url}/rounds/final/entries/e1/score", Scores(7, 7))).StatusCode);
        var final = await (await marketer.PostAsync($"{url}/rounds/final/close", null)).Json();
        Assert.Equal("quorum", final.GetProperty("round").GetProperty("closedBecause").GetString());
        // z: j1 (1, −1), j2 (−1, 1), j3 (0): both entries 0 → jury tie broken by mean total 6.666667 vs 5.5.
        Assert.Equal(["e1", "e2"], final.GetProperty("entries").EnumerateArray().Select(r => r.GetProperty("entryId").GetString()));

        // Hybrid: with the jury results visible the weights are fixed; weights that do not add up are refused; no ranking before the reveal.
        await (await marketer.PostAsJsonAsync($"{url}/hybrid", new { juryRound = "final", voteRound = "public", juryWeight = 0.7, publicWeight = 0.3 })).Problem(409, "hybrid_frozen");
        await (await marketer.PostAsJsonAsync($"{url}/hybrid", new { juryRound = "final", voteRound = "public", juryWeight = 0.7, publicWeight = 0.5 })).Problem(400, "invalid_weights");
        await (await app.Client.GetAsync($"/api/public/campaigns/c-{Guid.NewGuid():N}/results/hybrid")).Problem(404, "result_not_published");
        Assert.Equal("declared", (await (await app.Client.GetAsync($"/api/public/campaigns/{c}/results/hybrid")).Json()).GetProperty("status").GetString());
        votes.Revealed[(c, "public")] = new RevealedTally(c, "public", time.GetUtcNow(), [new("entries", "e1", 10), new("entries", "e2", 30), new("entries", "e3", 99)]);
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", new { juryRound = "final", voteRound = "public", juryWeight = 0.5, publicWeight = 0.5 })).StatusCode);

        // Public: jury quality 1 for both (tied), public 10/30 and 30/30 → e2 1.0, e1 0.5 + 0.166667 = 0.666667.
        var published = await (await app.Client.GetAsync($"/api/public/campaigns/{c}/results/hybrid")).Json();
        Assert.Equal(0.5, published.GetProperty("declaration").GetProperty("juryWeight").GetDouble());
        Assert.Contains("SHA-256", published.GetProperty("tieBreak").GetString());
        var rows = published.GetProperty("ranking").EnumerateArray().ToList();
        Assert.Equal([("e2", 1.0, 30L), ("e1", 0.666667, 10L)], rows.Select(r => (r.GetProperty("entryId").GetString(), r.GetProperty("hybrid").GetDouble(), r.GetProperty("votes").GetInt64())));
    }

    [Fact]
    public async Task Balanced_rounds_refuse_unassigned_entries_and_engaged_fans_export_as_csv()
    {
        var (app, time, entries, votes) = await Start();
        await using var _ = app;
        var c = await app.CampaignAsync();
        var now = time.GetUtcNow();
        for (var i = 1; i <= 6; i++) entries.Add(c, $"p{i}", i <= 4 ? "ann" : "bob", "approved", now.AddDays(-1));
        votes.Votes.AddRange(Enumerable.Range(0, 5).Select(i => new FakeVotes.Vote(c, "cat", "p1", now.AddHours(-i), false)));
        var marketer = app.As("marketer");
        var url = $"/api/judging/campaigns/{c}";
        await marketer.PutAsJsonAsync($"{url}/setup", new
        {
            rubric = new { criteria = new[] { new { id = "quality", label = "Quality", weight = 1.0 } }, scaleMin = 0, scaleMax = 5 },
            judges = new[] { "k1", "k2", "k3" },
        });
        var created = await marketer.PostAsJsonAsync($"{url}/rounds", new
        {
            id = "r1", deadline = now.AddMinutes(10), entryIds = Enumerable.Range(1, 6).Select(i => $"p{i}").ToArray(), assignment = "balanced", scoresPerEntry = 1,
        });
        Assert.Equal(201, (int)created.StatusCode);
        var judges = new[] { "k1", "k2", "k3" }.ToDictionary(j => j, j => app.As("judge", j));
        var lists = new Dictionary<string, string[]>();
        foreach (var (j, client) in judges) lists[j] = Listed(await (await client.GetAsync($"{url}/rounds/r1/entries")).Json());
        Assert.All(lists.Values, l => Assert.Equal(2, l.Length));
        Assert.Equal(6, lists.Values.SelectMany(l => l).Distinct().Count());
        var notMine = lists["k2"][0];
        await (await judges["k1"].PutAsJsonAsync($"{url}/rounds/r1/entries/{notMine}/score", new { scores = new { quality = 3 } })).Problem(403, "not_assigned");

        // Every entry scored once: quorum 1 → closes early. Owner ann's entries get 5, bob's 1.
        foreach (var (j, list) in lists)
            foreach (var e in list)
                Assert.Equal(200, (int)(await judges[j].PutAsJsonAsync($"{url}/rounds/r1/entries/{e}/score", new { scores = new { quality = e is "p5" or "p6" ? 1 : 5 } })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"{url}/rounds/r1/close", null)).StatusCode);

        // Window of 10 days: ann (4 entries) rate 1.2, bob (2) 0.6, cat (5 votes) 0.5.
        var from = Uri.EscapeDataString(now.AddDays(-5).ToString("O"));
        var to = Uri.EscapeDataString(now.AddDays(5).ToString("O"));
        var ranking = await (await marketer.GetAsync($"/api/moderation/campaigns/{c}/engaged-fans?from={from}&to={to}")).Json();
        Assert.Equal(["ann", "bob", "cat"], ranking.GetProperty("fans").EnumerateArray().Select(f => f.GetProperty("fanId").GetString()));
        Assert.Equal([1.2, 0.6, 0.5], ranking.GetProperty("fans").EnumerateArray().Select(f => f.GetProperty("interactionRate").GetDouble()));

        var csv = await marketer.GetAsync($"/api/moderation/campaigns/{c}/engaged-fans?from={from}&to={to}&juryRound=r1&juryWeight=0.5&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        // Each judge saw a mix of owners, so z-scores differ per judge; only the header and order by formula are fixed here.
        Assert.Equal("rank,fanId,approvedEntries,votesCast,reactionsReceived,interactionRate,juryQuality,score", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("1,\"ann\",4,0,0,1.2,", lines[1]);

        // Past its deadline a round is closed on the first read of its results, nobody has to ask; missing scores are listed.
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync($"{url}/rounds", new { id = "r2", deadline = now.AddMinutes(5), entryIds = new[] { "p1", "p2" } })).StatusCode);
        await (await marketer.GetAsync($"{url}/rounds/r2/results")).Problem(409, "round_open");
        time.Advance(TimeSpan.FromMinutes(6));
        await (await judges["k1"].PutAsJsonAsync($"{url}/rounds/r2/entries/p1/score", new { scores = new { quality = 3 } })).Problem(409, "round_closed");
        var late = await (await judges["k1"].GetAsync($"{url}/rounds/r2/results")).Json();
        Assert.Equal(("deadline", "auto"), (late.GetProperty("round").GetProperty("closedBecause").GetString(), late.GetProperty("round").GetProperty("closedBy").GetString()));
        Assert.Equal(6, late.GetProperty("missingScores").GetArrayLength());

        await (await marketer.GetAsync($"/api/moderation/campaigns/{c}/engaged-fans?from={to}&to={from}")).Problem(400, "validation_failed");
        await (await marketer.GetAsync($"/api/moderation/campaigns/{c}/engaged-fans?from={from}&to={to}&juryRound=nope")).Problem(404, "round_not_found");
    }
}
