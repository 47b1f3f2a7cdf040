using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Voting;

/// <summary>Shared setup for voting tests: a campaign with a ballot, and polling until the counter has caught up.</summary>
internal static class VotingKit
{
    public static readonly string RevealKey = Convert.ToBase64String(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportPkcs8PrivateKey());

    /// <summary>Each app gets its own votes queue, so tests running in parallel never count each other's messages.</summary>
    public static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var s = new Dictionary<string, string?>
        {
            ["Voting:Queue"] = "votes-" + Guid.NewGuid().ToString("N")[..12],
            ["Voting:RevealSigningKey"] = RevealKey,
            ["Voting:PerFanPerMinute"] = "1000",
            ["Voting:PerIpPerMinute"] = "100000",
        };
        foreach (var (k, v) in extra) s[k] = v;
        return s;
    }

    public static string NewId(string prefix = "vote") => prefix + "-" + Guid.NewGuid().ToString("N")[..12];

    public static object Window(DateTimeOffset start, DateTimeOffset end) => new { start, end };

    public static async Task<string> CampaignAsync(TestApp app, DateTimeOffset now, object? voting = null, string zone = "Europe/Berlin",
        object? eligibility = null, DateTimeOffset? reveal = null)
    {
        var id = NewId();
        var marketer = app.As("marketer");
        var body = new
        {
            id, name = "Build the car", brand = "Cars", timeZone = zone, locales = new[] { "en", "de" }, features = new[] { "voting" },
            windows = new { publish = Window(now.AddDays(-10), now.AddDays(60)), voting = voting ?? Window(now.AddHours(-1), now.AddDays(10)), reveal },
            eligibility,
        };
        var created = await marketer.PostAsJsonAsync("/api/campaigns", body);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        return id;
    }

    public static object Ballot(string mode = "firstIsFinal", string tally = "admins", bool captcha = false, object[]? rounds = null) => new
    {
        mode, tally, requireCaptcha = captcha,
        rounds = rounds ?? [Round("r1")],
    };

    public static object Round(string id, string? opens = null, string? closes = null, string? reveal = null) => new
    {
        id, title = new Dictionary<string, string> { ["en"] = "Final" }, kind = "ballot", opens, closes, reveal,
        categories = new object[]
        {
            new { id = "colour", label = L("Colour"), options = new[] { O("red"), O("blue"), O("green") } },
            new { id = "wheels", label = L("Wheels"), options = new[] { O("sport"), O("classic") } },
        },
    };

    public static Dictionary<string, string> L(string en) => new() { ["en"] = en };
    public static object O(string id) => new { id, label = L(id) };

    public static async Task PutBallotAsync(TestApp app, string id, object ballot)
    {
        var r = await app.As("marketer").PutAsJsonAsync($"/api/campaigns/{id}/ballot", ballot);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    public static object Choices(params (string Category, string Option)[] c) => new { choices = c.Select(x => new { category = x.Category, option = x.Option }).ToArray() };

    public static async Task<JsonElement> TallyAsync(HttpClient admin, string id, string round = "r1")
    {
        var r = await admin.GetAsync($"/api/campaigns/{id}/rounds/{round}/tally");
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        return await r.Json();
    }

    public static long Count(JsonElement tally, string category, string option)
        => tally.GetProperty("categories").EnumerateArray().First(c => c.GetProperty("id").GetString() == category)
            .GetProperty("options").EnumerateArray().First(o => o.GetProperty("id").GetString() == option).GetProperty("count").GetInt64();

    public static long Refused(JsonElement tally, string reason) => tally.GetProperty("refusals").GetProperty(reason).GetInt64();

    /// <summary>Polls the admin tally until the condition holds (the counter is asynchronous); fails with the last tally after a minute.</summary>
    public static async Task<JsonElement> WaitAsync(TestApp app, string id, Func<JsonElement, bool> done, string round = "r1")
    {
        var admin = app.As("owner");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var t = await TallyAsync(admin, id, round);
            if (done(t)) return t;
            if (DateTime.UtcNow > deadline) Assert.Fail("The tally did not reach the expected state: " + t);
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the counter has applied everything queued so far, then returns the tally.</summary>
    public static async Task<JsonElement> SettledAsync(TestApp app, string id, long votesCounted, string round = "r1")
        => await WaitAsync(app, id, t => t.GetProperty("votesCounted").GetInt64() == votesCounted, round);
}
