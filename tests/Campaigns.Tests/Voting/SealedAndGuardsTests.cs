using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Voting;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.Voting;

public sealed class SealedAndGuardsTests
{
    // Token lifetimes are checked against the real clock; the fake TimeProvider moves only the app's business time.
    private static HttpClient Client(TestApp app, string role, string subject, DateTimeOffset _) => app.As(role, subject);

    [Fact]
    public async Task Sealed_counts_leak_through_no_endpoint_before_the_reveal_and_the_signed_snapshot_verifies_while_a_tampered_one_fails()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(b => b.Services.AddSingleton<TimeProvider>(time), VotingKit.Settings());
        var start = time.GetUtcNow();
        var id = await VotingKit.CampaignAsync(app, start, voting: VotingKit.Window(start.AddHours(-1), start.AddDays(1)), reveal: start.AddDays(2));
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(tally: "nobody"));
        var votes = new[] { ("s-1", "red"), ("s-2", "red"), ("s-3", "blue") };
        foreach (var (fan, colour) in votes)
            Assert.Equal(202, (int)(await Client(app, "fan", fan, start).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes",
                VotingKit.Choices(("colour", colour), ("wheels", "classic")))).StatusCode);
        var admin = Client(app, "admin", "admin-1", start);
        await (await admin.GetAsync($"/api/campaigns/{id}/rounds/r1/tally")).Problem(403, "tally_sealed");
        await (await app.Client.GetAsync($"/api/public/campaigns/{id}/rounds/r1/results")).Problem(404, "results_not_revealed");
        var ballotText = await (await app.Client.GetAsync($"/api/public/campaigns/{id}/ballot")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("count", ballotText, StringComparison.OrdinalIgnoreCase);
        Assert.True(ballotText.IndexOf("\"red\"", StringComparison.Ordinal) < ballotText.IndexOf("\"blue\"", StringComparison.Ordinal)); // configured order, not by votes
        await (await admin.PostAsync($"/api/campaigns/{id}/rounds/r1/reveal", null)).Problem(409, "round_not_closed");
        // Wait for the counter through the fan's own receipt (it shows only the fan's own vote).
        foreach (var (fan, _) in votes)
        {
            var fanClient = Client(app, "fan", fan, start);
            for (var i = 0; i < 600 && (int)(await fanClient.GetAsync($"/api/campaigns/{id}/rounds/r1/votes/me")).StatusCode != 200; i++) await Task.Delay(100);
        }

        // Voting closes; the scheduler's reveal action runs (twice: it must be idempotent).
        time.Advance(TimeSpan.FromDays(2));
        var action = app.Services.GetServices<IPhaseAction>().Single(a => a.Kind == "voting.reveal");
        var due = await action.DueInstantsAsync(id, default);
        Assert.Equal([start.AddDays(2)], due);
        await action.RunAsync(id, due[0], default);
        await action.RunAsync(id, due[0], default);
        var now = time.GetUtcNow();

        var results = await app.Client.GetAsync($"/api/public/campaigns/{id}/rounds/r1/results");
        var published = await results.Json();
        Assert.True(results.IsSuccessStatusCode, published.ToString());
        var snapshot = published.GetProperty("snapshot");
        Assert.Equal(3, snapshot.GetProperty("votesCounted").GetInt64());
        var colourCategory = snapshot.GetProperty("categories").EnumerateArray().First(c => c.GetProperty("id").GetString() == "colour");
        Assert.Equal("red", colourCategory.GetProperty("winner").GetString());
        Assert.Equal(0.6667, colourCategory.GetProperty("options")[0].GetProperty("share").GetDouble());
        Assert.Equal("red", snapshot.GetProperty("configuration").GetProperty("colour").GetString());
        Assert.Equal("classic", snapshot.GetProperty("configuration").GetProperty("wheels").GetString());
        Assert.Equal(0, snapshot.GetProperty("refusals").GetProperty("duplicate").GetInt64());

        var text = published.GetProperty("signedSnapshot").GetString()!;
        var signature = published.GetProperty("signature").GetString()!;
        var key = await (await app.Client.GetAsync("/api/public/voting/reveal-key")).Json();
        Assert.Equal(key.GetProperty("publicKey").GetString(), published.GetProperty("publicKey").GetString());
        Assert.True(RevealSigner.Verify(text, signature, key.GetProperty("publicKey").GetString()!));
        Assert.False(RevealSigner.Verify(text.Replace("\"count\":2", "\"count\":3"), signature, key.GetProperty("publicKey").GetString()!));
        Assert.Contains("\"count\":2", text);

        // The admin's reveal returns the very same snapshot; the contract exposes the counts.
        var second = await (await Client(app, "admin", "admin-1", now).PostAsync($"/api/campaigns/{id}/rounds/r1/reveal", null)).Json();
        Assert.Equal(text, second.GetProperty("signedSnapshot").GetString());
        var revealed = await app.Service<IRevealedResults>().GetRevealedAsync(id, "r1", default);
        Assert.Equal(2, revealed!.Counts.Single(c => c.CategoryId == "colour" && c.OptionId == "red").Count);
        Assert.Null(await app.Service<IRevealedResults>().GetRevealedAsync(id, "r2", default));
    }

    [Fact]
    public async Task Window_edge_on_the_autumn_dst_day_follows_the_local_reading_of_the_close()
    {
        // Europe/Berlin, 2026-10-25: 02:30 local happens at 00:30Z (CEST) and again at 01:30Z (CET). The round closes at the first.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 10, 25, 0, 29, 59, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(b => b.Services.AddSingleton<TimeProvider>(time), VotingKit.Settings());
        var now = time.GetUtcNow();
        var id = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddDays(-3), now.AddDays(3)));
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(rounds: [VotingKit.Round("r1", opens: "2026-10-22T09:00:00", closes: "2026-10-25T02:30:00")]));
        var ballot = await (await app.Client.GetAsync($"/api/public/campaigns/{id}/ballot")).Json();
        Assert.Equal("2026-10-25T02:30:00+02:00", ballot.GetProperty("rounds")[0].GetProperty("closesLocal").GetString());

        Assert.Equal(202, (int)(await Client(app, "fan", "dst-1", now).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).StatusCode);
        time.Advance(TimeSpan.FromSeconds(1));
        var closed = await Client(app, "fan", "dst-2", time.GetUtcNow()).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")));
        await closed.Problem(409, "round_closed");
        time.Advance(TimeSpan.FromHours(1)); // 02:30 CET: the same wall-clock reading, still closed
        await (await Client(app, "fan", "dst-3", time.GetUtcNow()).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).Problem(409, "round_closed");
    }

    [Fact]
    public async Task Bad_input_gets_4xx_problems_with_stable_codes()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var now = DateTimeOffset.UtcNow;
        var id = await VotingKit.CampaignAsync(app, now);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(rounds: [VotingKit.Round("r1"), VotingKit.Round("later", opens: "2099-01-01T00:00:00Z", closes: "2099-02-01T00:00:00Z"),
            new { id = "entries", title = VotingKit.L("Entries"), kind = "entries" }]));
        var fan = app.As("fan", "bad-input-fan");
        Task<HttpResponseMessage> Vote(string campaign, string round, object body) => fan.PostAsJsonAsync($"/api/campaigns/{campaign}/rounds/{round}/votes", body);

        await (await Vote("no-such-campaign", "r1", VotingKit.Choices(("colour", "red")))).Problem(404, "campaign_not_found");
        await (await Vote("..%2F..%2Fetc", "r1", VotingKit.Choices(("colour", "red")))).Problem(404, "campaign_not_found");
        await (await Vote(id, "nope", VotingKit.Choices(("colour", "red")))).Problem(404, "round_not_found");
        await (await Vote(id, "R1!", VotingKit.Choices(("colour", "red")))).Problem(404, "round_not_found");
        await (await Vote(id, "r1", VotingKit.Choices(("roof", "red")))).Problem(400, "unknown_category");
        await (await Vote(id, "r1", VotingKit.Choices(("colour", "pink")))).Problem(400, "unknown_option");
        await (await Vote(id, "r1", VotingKit.Choices(("colour", "red"), ("colour", "blue")))).Problem(400, "two_options_in_category");
        await (await Vote(id, "r1", new { choices = Array.Empty<object>() })).Problem(400, "no_choices");
        await (await Vote(id, "r1", new { entryId = "e1" })).Problem(400, "not_an_entries_round");
        await (await Vote(id, "later", VotingKit.Choices(("colour", "red")))).Problem(409, "round_closed");
        // Submissions provides the entry directory: an entry that does not exist (or is not approved) is a 404.
        await (await Vote(id, "entries", new { entryId = "e1" })).Problem(404, "entry_not_found");
        await (await fan.PostRaw($"/api/campaigns/{id}/rounds/r1/votes", "{\"choices\": [")).Problem(400, "malformed_json");
        await (await fan.PostRaw($"/api/campaigns/{id}/rounds/r1/votes", "{\"choices\":{\"colour\":[\"red\",\"blue\"]}}")).Problem(400, "malformed_json");
        await (await fan.PostRaw($"/api/campaigns/{id}/rounds/r1/votes", "{\"choices\":[],\"weight\":10}")).Problem(400, "malformed_json");
        await (await fan.PostRaw($"/api/campaigns/{id}/rounds/r1/votes", "{\"choices\":[{\"category\":\"" + new string('c', 70_000) + "\"}]}")).Problem(413, "body_too_large");
        using (var req = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/rounds/r1/votes") { Content = JsonContent.Create(VotingKit.Choices(("colour", "red"))) })
        {
            req.Headers.Add("Idempotency-Key", "no spaces/allowed");
            await (await fan.SendAsync(req)).Problem(400, "invalid_idempotency_key");
        }
        var foreign = new HttpClient { BaseAddress = app.BaseAddress };
        foreign.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.Token("fan", "f-x", audience: "another-api"));
        await (await foreign.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).Problem(401, "unauthorized");
        await (await app.As("marketer").PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).Problem(403, "forbidden");
        // Marketers of the campaign's workspace see the live tally (unless sealed from everyone); moderators do not.
        Assert.Equal(200, (int)(await app.As("marketer").GetAsync($"/api/campaigns/{id}/rounds/r1/tally")).StatusCode);
        await (await app.As("moderator").GetAsync($"/api/campaigns/{id}/rounds/r1/tally")).Problem(403, "forbidden");
        await (await app.As("marketer").PutAsJsonAsync($"/api/campaigns/{id}/ballot", VotingKit.Ballot())).Problem(428, "if_match_required");
        var invalid = await app.As("marketer").PutAsJsonAsync($"/api/campaigns/{VotingKit.NewId()}/ballot", VotingKit.Ballot());
        await invalid.Problem(404, "campaign_not_found");

        // The window-closed attempt was kept with its reason.
        await VotingKit.WaitAsync(app, id, t => VotingKit.Refused(t, "window_closed") == 1, "later");
    }

    [Fact]
    public async Task Per_fan_limit_refuses_while_a_busy_shared_network_gets_a_captcha_step_up_instead_of_a_lockout()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings(("Voting:PerFanPerMinute", "2"), ("Voting:PerIpPerMinute", "3"),
            ("ClientAddress:TrustedProxies", "127.0.0.1")));
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(mode: "lastWins"));
        Task<HttpResponseMessage> Vote(string fan, string ip, string colour, string? captcha = null)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/rounds/r1/votes")
            { Content = JsonContent.Create(new { choices = new[] { new { category = "colour", option = colour } }, captchaToken = captcha }) };
            req.Headers.Add("X-Forwarded-For", ip);
            return app.As("fan", fan).SendAsync(req);
        }

        // One fan: two ballots a minute, the third is refused (and kept as rate_limited).
        Assert.Equal(202, (int)(await Vote("rl-fan", "198.51.100.1", "red")).StatusCode);
        Assert.Equal(202, (int)(await Vote("rl-fan", "198.51.100.2", "blue")).StatusCode);
        var limited = await Vote("rl-fan", "198.51.100.3", "green");
        await limited.Problem(429, "rate_limited");
        Assert.NotNull(limited.Headers.RetryAfter);

        // A campus behind one address: past the per-IP budget, fans are asked for a CAPTCHA, not locked out.
        for (var i = 0; i < 3; i++) Assert.Equal(202, (int)(await Vote($"campus-{i}", "203.0.113.7", "red")).StatusCode);
        await (await Vote("campus-3", "203.0.113.7", "red")).Problem(429, "captcha_required");
        await (await Vote("campus-4", "203.0.113.7", "red", captcha: "robot")).Problem(403, "captcha_failed");
        Assert.Equal(202, (int)(await Vote("campus-5", "203.0.113.7", "red", captcha: "pass-ok")).StatusCode);
        Assert.Equal(202, (int)(await Vote("elsewhere", "192.0.2.44", "blue")).StatusCode);

        var t = await VotingKit.WaitAsync(app, id, t => VotingKit.Refused(t, "rate_limited") == 2 && VotingKit.Refused(t, "captcha_failed") == 1
                                                     && t.GetProperty("votesCounted").GetInt64() == 6);
        Assert.Equal(4, VotingKit.Count(t, "colour", "red"));
        Assert.Equal(2, VotingKit.Count(t, "colour", "blue"));
        var refusals = await (await app.As("owner").GetAsync($"/api/campaigns/{id}/rounds/r1/refusals?reason=rate_limited")).Json();
        Assert.Equal(2, refusals.GetProperty("items").GetArrayLength());
        Assert.Contains(refusals.GetProperty("items").EnumerateArray(), i => i.GetProperty("ip").GetString() == "203.0.113.7");
    }

    private sealed class Entries : IEntryDirectory
    {
        public Task<EntryInfo?> GetAsync(string campaignId, string entryId, CancellationToken ct)
            => Task.FromResult(entryId is "e1" or "e2" or "e3" or "e4"
                ? new EntryInfo(campaignId, entryId, "owner-" + entryId, "video", entryId == "e4" ? "pending" : "approved", DateTimeOffset.UtcNow, "Video " + entryId, "en")
                : null);

        public async IAsyncEnumerable<EntryInfo> ApprovedAsync(string campaignId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Yield();
            foreach (var e in new[] { "e1", "e2", "e3" }) yield return (await GetAsync(campaignId, e, ct))!;
        }
    }

    private sealed class Blocklist : IFanBlocklist
    {
        public Task<bool> IsBlockedAsync(string campaignId, string fanId, CancellationToken ct) => Task.FromResult(fanId == "blocked-fan");
    }

    [Fact]
    public async Task Entry_votes_respect_the_budget_and_blocked_or_underage_fans_are_refused_as_ineligible()
    {
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<IEntryDirectory, Entries>();
            b.Services.AddSingleton<IFanBlocklist, Blocklist>();
        }, VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow, eligibility: new { minAge = 18 });
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(rounds: [new { id = "reporters", title = VotingKit.L("Reporters"), kind = "entries", budget = new { maxEntries = 2 } }]));
        var fan = app.As("fan", "entry-fan");
        Task<HttpResponseMessage> Vote(HttpClient c, string entry) => c.PostAsJsonAsync($"/api/campaigns/{id}/rounds/reporters/votes", new { entryId = entry });
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync("/api/me/profile", new { birthDate = DateTime.UtcNow.AddYears(-40).ToString("yyyy-MM-dd") })).StatusCode);

        Assert.Equal(202, (int)(await Vote(fan, "e1")).StatusCode);
        Assert.Equal(202, (int)(await Vote(fan, "e1")).StatusCode); // a retry: same vote id, counted once
        Assert.Equal(202, (int)(await Vote(fan, "e2")).StatusCode);
        Assert.Equal(202, (int)(await Vote(fan, "e3")).StatusCode); // over the budget of two: refused by the counter, kept
        await (await Vote(fan, "e4")).Problem(404, "entry_not_found");
        await (await Vote(fan, "nope")).Problem(404, "entry_not_found");
        await (await Vote(app.As("fan", "blocked-fan"), "e1")).Problem(403, "ineligible");

        var young = app.As("fan", "young-fan");
        Assert.Equal(200, (int)(await young.PutAsJsonAsync("/api/me/profile", new { birthDate = DateTime.UtcNow.AddYears(-15).ToString("yyyy-MM-dd") })).StatusCode);
        await (await Vote(young, "e1")).Problem(403, "ineligible");
        // No data while the campaign sets an age: refused (fails closed), with the fields the microsite should ask for.
        var missing = await (await Vote(app.As("fan", "no-profile-fan"), "e2")).Problem(403, "profile_required");
        Assert.True(missing.GetProperty("errors").TryGetProperty("birthDate", out _), missing.ToString());
        var adult = app.As("fan", "adult-fan");
        Assert.Equal(200, (int)(await adult.PutAsJsonAsync("/api/me/profile", new { birthDate = DateTime.UtcNow.AddYears(-30).ToString("yyyy-MM-dd") })).StatusCode);
        Assert.Equal(202, (int)(await Vote(adult, "e2")).StatusCode);

        var t = await VotingKit.WaitAsync(app, id, t => VotingKit.Refused(t, "budget_exhausted") == 1 && t.GetProperty("votesCounted").GetInt64() == 2, "reporters");
        Assert.Equal(1, VotingKit.Count(t, "entries", "e1"));
        Assert.Equal(2, VotingKit.Count(t, "entries", "e2"));
        Assert.Equal(3, VotingKit.Refused(t, "ineligible"));
    }
}
