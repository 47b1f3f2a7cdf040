using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Judging;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Moderation;
using static Campaigns.Tests.Judging.JudgingApiTests;

namespace Campaigns.Tests.Judging;

/// <summary>What fans and entrants rely on in judging freezes: hybrid weights before a result is visible, results at the close.</summary>
public sealed class JudgingFreezeTests
{

    /// <summary>A campaign with a two-judge panel and one open round "final" over e1–e3 (deadline in 30 minutes).</summary>
    private static async Task<(string Url, HttpClient Marketer, HttpClient J1, HttpClient J2)> RoundAsync(TestApp app, FakeEntries entries, DateTimeOffset now)
    {
        var c = await app.CampaignAsync();
        foreach (var (id, owner) in new[] { ("e1", "fan-a"), ("e2", "fan-b"), ("e3", "fan-c") }) entries.Add(c, id, owner, "approved", now);
        var marketer = app.As("marketer");
        var url = $"/api/judging/campaigns/{c}";
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"{url}/setup", new
        {
            rubric = new { criteria = new[] { new { id = "story", label = "Story", weight = 2.0 }, new { id = "photo", label = "Photo", weight = 1.0 } }, scaleMin = 1, scaleMax = 10 },
            judges = new[] { "j1", "j2" },
        })).StatusCode);
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync($"{url}/rounds", new { id = "final", deadline = now.AddMinutes(30), entryIds = new[] { "e1", "e2", "e3" } })).StatusCode);
        return (url, marketer, app.As("judge", "j1"), app.As("judge", "j2"));
    }

    private static async Task ScoreAllAsync(string url, HttpClient j1, HttpClient j2)
    {
        foreach (var (judge, entry, v) in new[] { (j1, "e1", 9), (j1, "e2", 5), (j1, "e3", 1), (j2, "e1", 2), (j2, "e2", 6), (j2, "e3", 8) })
            Assert.Equal(200, (int)(await judge.PutAsJsonAsync($"{url}/rounds/final/entries/{entry}/score", Scores(v, v))).StatusCode);
    }

    private static object Weights(double jury, string voteRound = "public") => new { juryRound = "final", voteRound, juryWeight = jury, publicWeight = 1 - jury };

    [Fact]
    public async Task Hybrid_weights_are_declared_before_any_result_is_visible_frozen_after_and_identical_resends_are_idempotent()
    {
        var (app, time, entries, votes) = await Start();
        await using var _ = app;
        var now = time.GetUtcNow();
        var (url, marketer, j1, j2) = await RoundAsync(app, entries, now);
        var c = url.Split('/')[^1];

        // Declared while nothing it combines is visible: allowed, public at once, and changeable until then.
        var declared = await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.5));
        Assert.Equal(200, (int)declared.StatusCode);
        var first = await declared.Json();
        Assert.Equal("declared", first.GetProperty("status").GetString());
        var again = await (await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.5))).Json();
        Assert.Equal(first.GetProperty("declaration").GetRawText(), again.GetProperty("declaration").GetRawText());
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.6))).StatusCode);
        var shown = await (await app.Client.GetAsync($"/api/public/campaigns/{c}/results/hybrid")).Json();
        Assert.Equal(0.6, shown.GetProperty("declaration").GetProperty("juryWeight").GetDouble());
        Assert.Equal(JsonValueKind.Null, shown.GetProperty("ranking").ValueKind);

        // Once the jury round is closed its results are visible to staff: other weights are refused, the same ones answer 200.
        await ScoreAllAsync(url, j1, j2);
        Assert.Equal(200, (int)(await marketer.PostAsync($"{url}/rounds/final/close", null)).StatusCode);
        await (await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.5))).Problem(409, "hybrid_frozen");
        await (await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.6, voteRound: "other"))).Problem(409, "hybrid_frozen");
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.6))).StatusCode);

        // After the reveal the result is published with the weights declared before.
        votes.Revealed[(c, "public")] = new RevealedTally(c, "public", time.GetUtcNow(), [new("entries", "e1", 10), new("entries", "e2", 30), new("entries", "e3", 20)]);
        await (await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.9))).Problem(409, "hybrid_frozen");
        var published = await (await app.Client.GetAsync($"/api/public/campaigns/{c}/results/hybrid")).Json();
        Assert.Equal("published", published.GetProperty("status").GetString());
        Assert.Equal(0.6, published.GetProperty("declaration").GetProperty("juryWeight").GetDouble());
        Assert.Equal(3, published.GetProperty("ranking").GetArrayLength());

        // Published means final: reveal-night reads are served from memory, not recomputed per request (with the
        // revealed tally gone from under it, the answer is still the one published).
        votes.Revealed.TryRemove((c, "public"), out var _removed);
        var reread = await app.Client.GetAsync($"/api/public/campaigns/{c}/results/hybrid");
        Assert.Equal(published.GetRawText(), (await reread.Json()).GetRawText());
        Assert.Equal(TimeSpan.FromSeconds(300), reread.Headers.CacheControl?.MaxAge);
    }

    [Fact]
    public async Task Hybrid_weights_freeze_once_staff_can_watch_the_vote_rounds_live_counts()
    {
        var (app, time, entries, votes) = await Start();
        await using var _ = app;
        var now = time.GetUtcNow();
        var (url, marketer, _, _) = await RoundAsync(app, entries, now);
        var c = url.Split('/')[^1];
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.5))).StatusCode);
        // The public round opens in a minute with a tally marketers may watch: until then weights can change.
        votes.LiveFrom[(c, "public")] = now.AddMinutes(1);
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.4))).StatusCode);
        time.Advance(TimeSpan.FromMinutes(2));
        var refused = await (await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.7))).Problem(409, "hybrid_frozen");
        Assert.Contains("live counts", refused.GetProperty("detail").GetString());
        Assert.Equal(200, (int)(await marketer.PostAsJsonAsync($"{url}/hybrid", Weights(0.4))).StatusCode);
    }

    [Fact]
    public async Task Closed_results_are_a_snapshot_with_its_hash_and_a_recusal_after_the_close_leaves_them_unchanged()
    {
        var (app, time, entries, _) = await Start();
        await using var _ = app;
        var now = time.GetUtcNow();
        var (url, marketer, j1, j2) = await RoundAsync(app, entries, now);
        await ScoreAllAsync(url, j1, j2);
        var closed = await (await marketer.PostAsync($"{url}/rounds/final/close", null)).Json();
        Assert.Equal("quorum", closed.GetProperty("round").GetProperty("closedBecause").GetString());
        var rankedAtClose = closed.GetProperty("entries").GetRawText();

        // j2 declares a conflict on e1 after the close: recorded (it applies to later rounds), the closed results stay.
        Assert.Equal(200, (int)(await j2.PostAsJsonAsync($"{url}/conflicts", new { entryId = "e1", reason = "found out later" })).StatusCode);
        var after = await (await marketer.GetAsync($"{url}/rounds/final/results")).Json();
        Assert.Equal(rankedAtClose, after.GetProperty("entries").GetRawText());
        var hash = closed.GetProperty("resultsSha256").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, after.GetProperty("resultsSha256").GetString());
        Assert.Equal(hash, after.GetProperty("round").GetProperty("resultsSha256").GetString());

        // The hash is SHA-256 over the canonical serialisation of what is served; anyone with the results recomputes it.
        var round = after.GetProperty("round");
        var served = new ResultsSnapshot(ResultsSnapshot.FormatVersion, url.Split('/')[^1], "final", round.GetProperty("closedAt").GetDateTimeOffset(),
            round.GetProperty("closedBecause").GetString()!, after.GetProperty("tieBreak").GetString()!, after.GetProperty("normalisation").GetString()!,
            after.GetProperty("entries").Deserialize<List<JudgingRules.EntryResult>>(JsonDefaults.Options)!,
            after.GetProperty("missingScores").Deserialize<List<JudgingRules.Missing>>(JsonDefaults.Options)!);
        Assert.Equal(hash, JudgingRules.Sha256Hex(JudgingRules.SnapshotBytes(served)));

        // Scoring stays refused after the close, and a day later nothing has moved.
        await (await j1.PutAsJsonAsync($"{url}/rounds/final/entries/e1/score", Scores(1, 1))).Problem(409, "round_closed");
        time.Advance(TimeSpan.FromDays(1));
        var later = await (await j1.GetAsync($"{url}/rounds/final/results")).Json();
        Assert.Equal(rankedAtClose, later.GetProperty("entries").GetRawText());
        Assert.Equal(hash, later.GetProperty("resultsSha256").GetString());
    }
}
