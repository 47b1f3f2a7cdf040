using Azure.Data.Tables;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Privacy;
using Campaigns.Tests.Infrastructure;
using Campaigns.Voting;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.Privacy;

/// <summary>Retention that runs by itself: refusal IP keys by the daily timer, and which campaigns' fan data is due.</summary>
public sealed class RetentionTests
{
    private static readonly DateTimeOffset Now = new(2027, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly PrivacyOptions Defaults = new();

    private static Campaign C(string id, CampaignWindows windows, bool published = true, DateTimeOffset? archivedAt = null)
        => CampaignRules.Create(new CampaignInput("C", "B", "Europe/Zurich", ["en"], [CampaignFeature.Voting], Windows: windows), id, "ws", Now.AddYears(-1))
            with { PublishedAt = published ? Now.AddYears(-1) : null, ArchivedAt = archivedAt, Status = archivedAt is null ? CampaignStatus.Published : CampaignStatus.Archived };

    private static TimeWindow W(DateTimeOffset start, DateTimeOffset end) => new(start, end);

    [Fact]
    public void A_campaign_ends_with_its_publish_window_else_its_last_entry_voting_or_reveal_else_its_archive()
    {
        var t = Now.AddDays(-300);
        Assert.Equal(t.AddDays(50), RetentionRules.EndOf(C("a", new(Publish: W(t, t.AddDays(50)), Voting: W(t, t.AddDays(10))))));
        Assert.Equal(t.AddDays(12), RetentionRules.EndOf(C("b", new(Entry: W(t, t.AddDays(5)), Voting: W(t.AddDays(1), t.AddDays(10)), Reveal: t.AddDays(12)))));
        Assert.Equal(t, RetentionRules.EndOf(C("c", new(), archivedAt: t)));
        Assert.Null(RetentionRules.EndOf(C("d", new())));
    }

    [Fact]
    public void Fan_data_is_due_once_the_campaign_ended_the_configured_days_ago_and_not_a_moment_before()
    {
        var days = Defaults.FanDataDaysAfterEnd;
        var campaigns = new[]
        {
            C("due", new(Publish: W(Now.AddDays(-400), Now.AddDays(-days - 1)))),
            C("exactly", new(Publish: W(Now.AddDays(-400), Now.AddDays(-days)))),
            C("a-day-short", new(Publish: W(Now.AddDays(-400), Now.AddDays(-days + 1)))),
            C("running", new(Publish: W(Now.AddDays(-10), Now.AddDays(30)))),
            C("never-ends", new()),
            C("draft", new(Publish: W(Now.AddDays(-900), Now.AddDays(-800))), published: false),
            C("archived-long-ago", new(), archivedAt: Now.AddDays(-days - 30)),
        };
        Assert.Equal(["due", "exactly", "archived-long-ago"], RetentionRules.PastFanDataRetention(campaigns, Now, Defaults).Select(c => c.Id));
        Assert.Equal(["due", "exactly", "a-day-short", "archived-long-ago"],
            RetentionRules.PastFanDataRetention(campaigns, Now, new PrivacyOptions { FanDataDaysAfterEnd = days - 1 }).Select(c => c.Id));
    }

    [Fact]
    public void Retention_settings_are_validated_naming_the_setting()
    {
        Assert.Equal((30, 180), (Defaults.RefusalIpDays, Defaults.FanDataDaysAfterEnd));
        var bad = new PrivacyOptionsValidator().Validate(null, new PrivacyOptions { RefusalIpDays = 0, FanDataDaysAfterEnd = -1 });
        Assert.True(bad.Failed);
        Assert.Contains(bad.Failures!, f => f.Contains("Privacy__RefusalIpDays"));
        Assert.Contains(bad.Failures!, f => f.Contains("Privacy__FanDataDaysAfterEnd"));
        Assert.Equal(Now.AddDays(-30), RetentionRules.RefusalIpCutoff(Now, Defaults));
    }

    private const string TimerPayload = """{"Data":{"timer":{"Schedule":{"AdjustForDST":false},"IsPastDue":false}},"Metadata":{}}""";

    [Fact]
    public async Task The_retention_timer_removes_refusal_ip_keys_past_the_period_and_leaves_everything_else()
    {
        var now = new DateTimeOffset(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero);
        var time = new FakeTimeProvider(now);
        await using var app = await TestApp.StartAsync(b => b.Services.AddSingleton<TimeProvider>(time));
        var table = app.Service<StorageClients>().Table(VoteCounter.TableName);
        var campaign = "ret-" + Guid.NewGuid().ToString("N")[..10];
        var pk = VoteCounter.PartitionKey(campaign, "r1", 3);

        TableEntity Refusal(string id, int daysAgo, string? ip) => new(pk, "x|" + id)
        {
            ["VoteId"] = id, ["Fan"] = "fan-" + id, ["Reason"] = RefusalReasons.RateLimited, ["At"] = now.AddDays(-daysAgo), ["Ip"] = ip,
            ["Choices"] = """{"colour":"red"}""",
        };
        await table.AddEntityAsync(Refusal("old", 31, "203.0.113.7"));
        await table.AddEntityAsync(Refusal("young", 29, "2001:db8:1:2::/64"));
        await table.AddEntityAsync(Refusal("noip", 90, null));
        // Not a refusal: a fan's vote row is not this timer's business, whatever its age or properties.
        await table.AddEntityAsync(new TableEntity(pk, "f|fan-counted") { ["Fan"] = "fan-counted", ["At"] = now.AddDays(-90), ["Ip"] = "198.51.100.1", ["Counted"] = true });
        async Task<TableEntity> Row(string rk) => (await table.GetEntityAsync<TableEntity>(pk, rk)).Value;
        var before = new Dictionary<string, TableEntity>();
        foreach (var rk in new[] { "x|old", "x|young", "x|noip", "f|fan-counted" }) before[rk] = await Row(rk);

        Assert.Equal(200, (int)(await app.InvokeAsync(PrivacyApi.RetentionTimer, TimerPayload)).StatusCode);

        var old = await Row("x|old");
        Assert.Null(old.GetString("Ip"));
        // The refusal itself stays: evidence and counts do not depend on the address.
        Assert.Equal(("fan-old", "rate_limited", now.AddDays(-31), """{"colour":"red"}"""),
            (old.GetString("Fan"), old.GetString("Reason"), old.GetDateTimeOffset("At"), old.GetString("Choices")));
        Assert.Equal("2001:db8:1:2::/64", (await Row("x|young")).GetString("Ip"));
        Assert.Equal(before["x|young"].ETag, (await Row("x|young")).ETag);
        Assert.Equal(before["x|noip"].ETag, (await Row("x|noip")).ETag);
        Assert.Equal(before["f|fan-counted"].ETag, (await Row("f|fan-counted")).ETag);
        Assert.Equal("198.51.100.1", (await Row("f|fan-counted")).GetString("Ip"));

        // Two days later the 29-day-old key has passed 30 days too; a repeated run changes nothing else.
        time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(200, (int)(await app.InvokeAsync(PrivacyApi.RetentionTimer, TimerPayload)).StatusCode);
        Assert.Null((await Row("x|young")).GetString("Ip"));
        Assert.Equal("fan-young", (await Row("x|young")).GetString("Fan"));
        Assert.Equal(before["f|fan-counted"].ETag, (await Row("f|fan-counted")).ETag);
    }

    [Fact]
    public void The_retention_timer_is_a_daily_timer_in_the_function_catalog()
    {
        var catalog = CampaignsApp.Build(["--LocalSettingsPath=/nonexistent/local.settings.json"]).Services.GetRequiredService<global::Campaigns.Hosting.FunctionCatalog>();
        var timer = Assert.IsType<global::Campaigns.Hosting.TimerTrigger>(catalog.Functions.Single(f => f.Name == PrivacyApi.RetentionTimer).Trigger);
        var first = global::Campaigns.Hosting.StandaloneTimers.Parse(timer.Schedule).GetNextOccurrence(new DateTime(2027, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal(TimeSpan.FromDays(1), global::Campaigns.Hosting.StandaloneTimers.Parse(timer.Schedule).GetNextOccurrence(first) - first);
    }
}
