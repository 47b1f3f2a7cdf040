using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Voting;

/// <summary>What fans rely on freezes when a round opens; extending the close is the one audited exception.</summary>
public sealed class BallotFreezeApiTests
{
    private static string At(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static async Task<(HttpResponseMessage Response, string? ETag)> Put(HttpClient marketer, string id, object ballot, string? etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{id}/ballot") { Content = JsonContent.Create(ballot) };
        if (etag is not null) request.Headers.TryAddWithoutValidation("If-Match", etag);
        var r = await marketer.SendAsync(request);
        return (r, r.Headers.ETag?.ToString());
    }

    private static async Task Frozen(HttpResponseMessage r, string field)
    {
        var problem = await r.Problem(409, "round_frozen");
        Assert.Contains(field, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_open_round_cannot_be_shortened_or_reshaped_or_revealed_early_but_its_close_can_be_extended_with_an_audit_entry()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var now = DateTimeOffset.UtcNow;
        var t = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero);
        var id = await VotingKit.CampaignAsync(app, t, voting: VotingKit.Window(t.AddHours(-1), t.AddDays(10)));
        var marketer = app.As("marketer", "mkt-1");
        var opens = At(t.AddHours(-1));
        var close = t.AddDays(10);
        var reveal = t.AddDays(11);
        object[] Rounds(object r1, object? r2 = null) => [r1, r2 ?? VotingKit.Round("r2", At(t.AddDays(5)), At(t.AddDays(6)))];
        var (created, etag) = await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(close), At(reveal)))), null);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());

        // The finding: close the open round now and reveal a few seconds later → a signed snapshot weeks early.
        var (early, _) = await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(t.AddMinutes(-1)), At(t.AddSeconds(5))))), etag);
        await Frozen(early, "closes");
        // Shape, window start, mode, sealing and the round itself are frozen too.
        await Frozen((await Put(marketer, id, VotingKit.Ballot(mode: "lastWins", rounds: Rounds(VotingKit.Round("r1", opens, At(close), At(reveal)))), etag)).Response, "mode");
        await Frozen((await Put(marketer, id, VotingKit.Ballot(tally: "nobody", rounds: Rounds(VotingKit.Round("r1", opens, At(close), At(reveal)))), etag)).Response, "tally");
        await Frozen((await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", At(t.AddMinutes(-5)), At(close), At(reveal)))), etag)).Response, "opens");
        var fewerOptions = new
        {
            id = "r1",
            title = VotingKit.L("Final"),
            kind = "ballot",
            opens,
            closes = At(close),
            reveal = At(reveal),
            categories = new object[] { new { id = "colour", label = VotingKit.L("Colour"), options = new[] { VotingKit.O("red"), VotingKit.O("blue") } } },
        };
        await Frozen((await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(fewerOptions)), etag)).Response, "categories");
        await Frozen((await Put(marketer, id, VotingKit.Ballot(rounds: [VotingKit.Round("r2", At(t.AddDays(5)), At(t.AddDays(6)))]), etag)).Response, "r1");
        await Frozen((await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(close), At(reveal.AddHours(-1))))), etag)).Response, "reveal");

        // A round not yet open stays fully editable (here: earlier window, different options).
        var r2Edited = new
        {
            id = "r2",
            title = VotingKit.L("Semi"),
            kind = "ballot",
            opens = At(t.AddDays(3)),
            closes = At(t.AddDays(4)),
            categories = new object[] { new { id = "colour", label = VotingKit.L("Colour"), options = new[] { VotingKit.O("red"), VotingKit.O("blue") } } },
        };
        var (editable, etag2) = await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(close), At(reveal)), r2Edited)), etag);
        Assert.True(editable.IsSuccessStatusCode, await editable.Content.ReadAsStringAsync());
        // The decision was taken against the version the caller read: an older ETag is stale.
        await (await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(close), At(reveal)), r2Edited)), etag)).Response.Problem(412, "stale_etag");

        // Extending the close is allowed and audited; the reveal may not then fall before the new close.
        var later = close.AddDays(5);
        await Frozen((await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(later), At(reveal)), r2Edited)), etag2)).Response, "reveal");
        var (extended, _) = await Put(marketer, id, VotingKit.Ballot(rounds: Rounds(VotingKit.Round("r1", opens, At(later), At(later.AddDays(1))), r2Edited)), etag2);
        Assert.True(extended.IsSuccessStatusCode, await extended.Content.ReadAsStringAsync());

        var staff = await (await app.As("admin").GetAsync($"/api/campaigns/{id}/ballot")).Json();
        var entry = staff.GetProperty("audit").EnumerateArray().Single(e => e.GetProperty("action").GetString() == "close_extended");
        Assert.Equal(("r1", "mkt-1"), (entry.GetProperty("roundId").GetString(), entry.GetProperty("actor").GetString()));
        Assert.Equal(close, entry.GetProperty("oldValue").GetDateTimeOffset());
        Assert.Equal(later, entry.GetProperty("newValue").GetDateTimeOffset());
        Assert.True(entry.GetProperty("at").GetDateTimeOffset() >= t);
        var pub = await (await app.Client.GetAsync($"/api/public/campaigns/{id}/ballot")).Json();
        Assert.False(pub.TryGetProperty("audit", out _));
    }
}

public sealed class CampaignWindowFreezeTests
{
    [Fact]
    public async Task A_campaign_edit_cannot_close_a_round_that_takes_the_campaigns_voting_window_but_can_extend_it_audited()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var now = DateTimeOffset.UtcNow;
        var id = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddHours(-1), now.AddDays(10)), reveal: now.AddDays(11));
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot()); // r1 has no times of its own: it runs in the campaign's window
        var marketer = app.As("marketer", "mkt-window");

        async Task<HttpResponseMessage> PutCampaign(DateTimeOffset votingEnd, DateTimeOffset reveal)
        {
            var read = await marketer.GetAsync($"/api/campaigns/{id}");
            var body = new
            {
                name = "Build the car", brand = "Cars", timeZone = "Europe/Berlin", locales = new[] { "en", "de" }, features = new[] { "voting" },
                windows = new { publish = VotingKit.Window(now.AddDays(-10), now.AddDays(60)), voting = VotingKit.Window(now.AddHours(-1), votingEnd), reveal },
            };
            var request = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{id}") { Content = JsonContent.Create(body) };
            request.Headers.TryAddWithoutValidation("If-Match", read.Headers.ETag!.ToString());
            return await marketer.SendAsync(request);
        }

        // The same finding through the campaign: close voting now and reveal in seconds.
        var early = await (await PutCampaign(now.AddMinutes(-1), now.AddSeconds(5))).Problem(409, "round_frozen");
        Assert.Contains("closes", early.GetProperty("detail").GetString());
        Assert.Equal(200, (int)(await PutCampaign(now.AddDays(12), now.AddDays(13))).StatusCode);
        var ballot = await (await marketer.GetAsync($"/api/campaigns/{id}/ballot")).Json();
        Assert.Contains(ballot.GetProperty("audit").EnumerateArray(), a => a.GetProperty("action").GetString() == "close_extended"
            && a.GetProperty("actor").GetString() == "mkt-window");
    }

    [Fact]
    public async Task Nobody_reveals_results_before_the_announced_reveal_even_after_the_close()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(b => b.Services.AddSingleton<TimeProvider>(time), VotingKit.Settings());
        var now = time.GetUtcNow();
        var id = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddHours(-1), now.AddHours(1)), reveal: now.AddDays(1));
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        var owner = app.As("owner");

        time.Advance(TimeSpan.FromHours(3)); // closed, but the reveal was announced for tomorrow
        await (await owner.PostAsync($"/api/campaigns/{id}/rounds/r1/reveal", null)).Problem(409, "reveal_not_due");
        await (await app.Client.GetAsync($"/api/public/campaigns/{id}/rounds/r1/results")).Problem(404, "results_not_revealed");
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(200, (int)(await owner.PostAsync($"/api/campaigns/{id}/rounds/r1/reveal", null)).StatusCode);
    }
}
