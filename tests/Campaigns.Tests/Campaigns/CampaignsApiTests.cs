using System.Net.Http.Headers;
using System.Net.Http.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.CampaignManagement;

public sealed class CampaignsApiTests
{
    private static object Body(string id, string zone = "Europe/Zurich") => new
    {
        id, name = "Fan stories", brand = "Spread", timeZone = zone, locales = new[] { "fr", "en" }, features = new[] { "submissions" },
        windows = new
        {
            publish = new { start = "2026-01-01T00:00:00Z", end = "2027-12-31T00:00:00Z" },
            entry = new { start = "2026-03-29T00:00:00Z", end = "2027-01-01T00:00:00Z" },
        },
        eligibility = new { minAge = 16, countries = new[] { "FR", "IT" } },
        consent = new { version = "c1", text = new Dictionary<string, string> { ["fr"] = "J'accepte" } },
    };

    private static string NewId() => "c-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Marketer_creates_reads_updates_with_etag_publishes_and_microsites_see_public_fields_only()
    {
        await using var app = await TestApp.StartAsync();
        var marketer = app.As("marketer");
        var id = NewId();

        var created = await marketer.PostAsJsonAsync("/api/campaigns", Body(id));
        Assert.Equal(201, (int)created.StatusCode);
        var etag = created.Headers.ETag!.Tag;
        var c = await created.Json();
        Assert.Equal("draft", c.GetProperty("status").GetString());
        Assert.Equal("2026-03-29T01:00:00+01:00", c.GetProperty("windows").GetProperty("entry").GetProperty("startLocal").GetString());

        // Drafts are invisible to microsites.
        await (await app.Client.GetAsync($"/api/public/campaigns/{id}")).Problem(404, "campaign_not_found");

        // If-Match is required and must be current.
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{id}", Body(id))).Problem(428, "if_match_required");
        using (var put = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{id}") { Content = JsonContent.Create(Body(id, "Europe/Paris")) })
        {
            put.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
            var ok = await marketer.SendAsync(put);
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal("Europe/Paris", (await ok.Json()).GetProperty("timeZone").GetString());
            Assert.NotEqual(etag, ok.Headers.ETag!.Tag);
        }
        using (var stale = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{id}") { Content = JsonContent.Create(Body(id)) })
        {
            stale.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
            await (await marketer.SendAsync(stale)).Problem(412, "stale_etag");
        }

        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        var pub = await app.Client.GetAsync($"/api/public/campaigns/{id}");
        Assert.Equal(200, (int)pub.StatusCode);
        var p = await pub.Json();
        Assert.Equal("Europe/Paris", p.GetProperty("timeZone").GetString());
        Assert.False(p.TryGetProperty("status", out _));
        Assert.False(p.TryGetProperty("createdAt", out _));

        var list = await (await marketer.GetAsync("/api/campaigns?status=published&pageSize=200")).Json();
        Assert.Contains(list.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetString() == id);

        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/archive", null)).StatusCode);
        await (await app.Client.GetAsync($"/api/public/campaigns/{id}")).Problem(404, "campaign_not_found");
        await (await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).Problem(409, "campaign_archived");
    }

    [Fact]
    public async Task Bad_input_gets_4xx_problem_details_with_stable_codes()
    {
        await using var app = await TestApp.StartAsync();
        var marketer = app.As("marketer");
        var id = NewId();

        await (await marketer.PostRaw("/api/campaigns", "{\"name\": ")).Problem(400, "malformed_json");
        await (await marketer.PostRaw("/api/campaigns", """{"name":"n","brand":"b","timeZone":"UTC","locales":["en"],"features":["voting"],"colour":"red"}""")).Problem(400, "malformed_json");
        await (await marketer.PostRaw("/api/campaigns", """{"name":12,"brand":"b","timeZone":"UTC","locales":["en"],"features":["voting"]}""")).Problem(400, "malformed_json");
        await (await marketer.PostRaw("/api/campaigns", """{"brand":"b","timeZone":"UTC","locales":["en"],"features":["voting"]}""")).Problem(400, "malformed_json");
        await (await marketer.PostRaw("/api/campaigns", """{"name":"n","brand":"b","timeZone":"UTC","locales":["en"],"features":["teleport"]}""")).Problem(400, "malformed_json");
        var zone = await (await marketer.PostAsJsonAsync("/api/campaigns", Body(id, "Mars/Olympus"))).Problem(400, "validation_failed");
        Assert.True(zone.GetProperty("errors").TryGetProperty("timeZone", out _));
        var big = "{\"name\":\"" + new string('x', 70_000) + "\"}";
        await (await marketer.PostRaw("/api/campaigns", big)).Problem(413, "body_too_large");
        await (await marketer.GetAsync("/api/campaigns/no-such-campaign")).Problem(404, "campaign_not_found");
        await (await marketer.GetAsync("/api/campaigns/..%2F..%2Fetc")).Problem(404, "campaign_not_found");
        await (await marketer.GetAsync("/api/campaigns?status=bogus")).Problem(400, "validation_failed");
        await (await app.Client.GetAsync("/api/public/campaigns/NOPE")).Problem(404, "campaign_not_found");
        await (await app.Client.GetAsync("/api/nothing/here")).Problem(404, "not_found");
        await (await marketer.PostRaw("/api/campaigns", "name=x", "text/plain")).Problem(415, "unsupported_media_type");

        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync("/api/campaigns", Body(id))).StatusCode);
        await (await marketer.PostAsJsonAsync("/api/campaigns", Body(id))).Problem(409, "campaign_exists");
    }
}
