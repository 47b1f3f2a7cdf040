using System.Net.Http.Json;
using Campaigns.Fans;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Fans;

public sealed class FansTests
{
    [Fact]
    public void Age_is_computed_on_the_day_including_leap_birthdays()
    {
        var p = new FanProfile("f", null, "CH", new DateOnly(2008, 2, 29), false, DateTimeOffset.UtcNow);
        Assert.Equal(17, p.AgeAt(new DateTimeOffset(2026, 2, 28, 23, 0, 0, TimeSpan.Zero)));
        Assert.Equal(18, p.AgeAt(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public async Task Fan_keeps_a_profile_and_consent_with_timestamps_and_only_admins_read_others()
    {
        await using var app = await TestApp.StartAsync();
        var marketer = app.As("marketer");
        var id = "fans-" + Guid.NewGuid().ToString("N")[..10];
        var create = await marketer.PostAsJsonAsync("/api/campaigns", new
        {
            id, name = "Labels", brand = "Spread", timeZone = "Europe/Rome", locales = new[] { "it" }, features = new[] { "submissions" },
            rules = new { version = "r7", text = new Dictionary<string, string> { ["it"] = "Regolamento" } },
        });
        Assert.Equal(201, (int)create.StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);

        var fanId = "fan-" + Guid.NewGuid().ToString("N")[..8];
        var fan = app.As("fan", fanId);
        await (await fan.GetAsync("/api/me/profile")).Problem(404, "profile_not_found");
        var put = await fan.PutAsJsonAsync("/api/me/profile", new { displayName = "Giulia", country = "IT", birthDate = "1999-05-01" });
        Assert.Equal(200, (int)put.StatusCode);
        await (await fan.PutAsJsonAsync("/api/me/profile", new { country = "Italy" })).Problem(400, "validation_failed");

        await (await fan.PutAsJsonAsync($"/api/me/campaigns/{id}/consent", new { rulesVersion = "r6" })).Problem(400, "rules_version_mismatch");
        var consent = await (await fan.PutAsJsonAsync($"/api/me/campaigns/{id}/consent",
            new { rulesVersion = "r7", rightsGrant = true, ageConfirmed = true, marketingOptIn = false })).Json();
        Assert.Equal("r7", consent.GetProperty("rulesVersion").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, consent.GetProperty("rightsGrantedAt").ValueKind);
        Assert.False(consent.GetProperty("marketingOptIn").GetBoolean());
        await (await fan.PutAsJsonAsync("/api/me/campaigns/no-such-campaign/consent", new { rulesVersion = "r7" })).Problem(404, "campaign_not_found");

        await (await app.As("fan").GetAsync($"/api/fans/{fanId}")).Problem(403, "forbidden");
        await (await marketer.GetAsync($"/api/fans/{fanId}")).Problem(403, "forbidden");
        // Personal data across brands: a workspace owner may not read it, a platform operator (support case) may.
        await (await app.As("owner").GetAsync($"/api/fans/{fanId}")).Problem(403, "forbidden");
        var admin = await (await app.As("operator").GetAsync($"/api/fans/{fanId}")).Json();
        Assert.Equal("Giulia", admin.GetProperty("displayName").GetString());
        Assert.Equal("1999-05-01", admin.GetProperty("birthDate").GetString());
    }
}
