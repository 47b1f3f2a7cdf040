using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Episodes;

public sealed class EpisodesApiTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2027, month, day, hour, minute, 0, TimeSpan.Zero);
    private static Dictionary<string, object> Fr(string title, string? body = null) => new() { ["fr"] = new { title, body } };

    [Fact]
    public async Task Preview_shows_local_and_utc_instants_with_warnings_for_likely_mistakes()
    {
        await using var kit = await EpisodesKit.StartAsync(Utc(10, 1, 8));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer, new { publish = EpisodesKit.Window(Utc(1, 1, 0), Utc(10, 31, 12)) });

        var r = await marketer.PostAsJsonAsync($"/api/campaigns/{c}/series/preview",
            new { recurrence = new { startDate = "2027-10-30", times = new[] { "02:30", "7 PM" }, until = "2027-11-01T00:00" }, count = 20 });
        Assert.Equal(200, (int)r.StatusCode);
        var p = await r.Json();
        var occ = p.GetProperty("occurrences").EnumerateArray().ToList();
        Assert.Equal(4, occ.Count); // 30th and 31st, two a day; nothing on 1 November because the end is 00:00
        Assert.Equal("2027-10-31T02:30:00+02:00", occ[2].GetProperty("local").GetString());
        Assert.Equal(Utc(10, 31, 0, 30), occ[2].GetProperty("utc").GetDateTimeOffset());
        Assert.Equal("repeatedEarlier", occ[2].GetProperty("resolution").GetString());
        Assert.Contains(occ[2].GetProperty("warnings").EnumerateArray(), w => w.GetProperty("code").GetString() == "repeated_local_time");
        Assert.Equal(Utc(10, 31, 18), occ[3].GetProperty("utc").GetDateTimeOffset()); // 7 PM CET
        Assert.Contains(occ[3].GetProperty("warnings").EnumerateArray(), w => w.GetProperty("code").GetString() == "outside_publish_window");
        var codes = p.GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("code").GetString()).ToList();
        Assert.Contains("end_at_midnight", codes);
        Assert.Contains("ampm_confusion", codes); // 02:30 is at night
        Assert.Contains("repeated_local_time", codes);
        Assert.Contains("outside_publish_window", codes);

        var backwards = await (await marketer.PostAsJsonAsync($"/api/campaigns/{c}/series/preview",
            new { recurrence = new { startDate = "2027-10-30", times = new[] { "19:00" }, until = "2027-10-01" } })).Json();
        Assert.Contains(backwards.GetProperty("warnings").EnumerateArray(), w => w.GetProperty("code").GetString() == "end_before_start");
        Assert.Empty(backwards.GetProperty("occurrences").EnumerateArray());

        var spring = await (await marketer.PostAsJsonAsync($"/api/campaigns/{c}/series/preview",
            new { times = new[] { "2028-03-26T02:30" }, timeZone = "America/New_York" })).Json();
        Assert.Equal("America/New_York", spring.GetProperty("timeZone").GetString());
        Assert.Equal("2028-03-26T02:30:00-04:00", spring.GetProperty("occurrences")[0].GetProperty("local").GetString()); // not a DST day there
    }

    [Fact]
    public async Task Bad_input_gets_4xx_problems_with_stable_codes()
    {
        await using var kit = await EpisodesKit.StartAsync(Utc(6, 1, 8));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var api = $"/api/campaigns/{c}";

        await (await marketer.PostAsJsonAsync($"{api}/series/preview", new { times = new[] { "2027-06-02T19:00" }, timeZone = "Mars/Olympus" })).Problem(400, "unknown_time_zone");
        await (await marketer.PostAsJsonAsync($"{api}/series", new { name = "x", recurrence = new { startDate = "2027-06-02", times = new[] { "25:00" }, count = 3 } })).Problem(400, "invalid_recurrence");
        await (await marketer.PostAsJsonAsync($"{api}/series", new { name = "x", recurrence = new { startDate = "2027-06-02", times = new[] { "19:00" } } })).Problem(400, "invalid_recurrence");
        await (await marketer.PostAsJsonAsync($"{api}/series", new { name = "x" })).Problem(400, "invalid_recurrence");
        await (await marketer.PostAsJsonAsync($"{api}/series", new { name = "x", recurrence = new { startDate = "2027-06-10", times = new[] { "19:00" }, until = "2027-06-01" } })).Problem(400, "times_out_of_order");
        await (await marketer.PostAsJsonAsync($"{api}/series", new { name = "x", times = new[] { "2027-06-03T19:00", "2027-06-02T19:00" } })).Problem(400, "times_out_of_order");
        await (await marketer.PostRaw($"{api}/series", """{"name":"x","times":["2027-06-03T19:00"],"colour":"red"}""")).Problem(400, "malformed_json");
        await (await marketer.PostAsJsonAsync($"{api}/series/preview", new { times = new[] { "2027-06-02T19:00" }, count = 1000 })).Problem(400, "validation_failed");
        // Nulls where values belong are 4xx, never 5xx.
        Assert.InRange((int)(await marketer.PostRaw($"{api}/series", """{"name":"x","times":[null]}""")).StatusCode, 400, 499);
        Assert.InRange((int)(await marketer.PostRaw($"{api}/series", """{"name":"x","recurrence":{"startDate":"2027-06-02","times":[null],"weekdays":[null],"count":1}}""")).StatusCode, 400, 499);
        Assert.InRange((int)(await marketer.PostRaw($"{api}/series/preview", """{"recurrence":null,"times":null}""")).StatusCode, 400, 499);
        Assert.InRange((int)(await marketer.PutAsJsonAsync($"{api}/series/s-none/order", new { episodeIds = (string[]?)null })).StatusCode, 400, 499);

        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Daily", recurrence = new { startDate = "2027-06-02", times = new[] { "19:00" }, count = 3 } });
        await (await marketer.PostAsJsonAsync($"{api}/series/{s}/episodes", new { content = Fr("t", new string('x', 9000)) })).Problem(400, "content_too_large");
        await (await marketer.PostRaw($"{api}/series/{s}/episodes", "{\"content\":{\"fr\":{\"title\":\"" + new string('x', 70_000) + "\"}}}")).Problem(413, "body_too_large");
        await (await marketer.PostAsJsonAsync($"{api}/series/{s}/episodes", new { content = new Dictionary<string, object> { ["de"] = new { title = "t" } } })).Problem(400, "validation_failed");
        await (await marketer.PostAsJsonAsync($"{api}/series/{s}/episodes", new { content = Fr("t"), at = "2027-05-01T19:00" })).Problem(400, "times_out_of_order");
        await (await marketer.PostAsJsonAsync($"{api}/series/{s}/episodes", new { content = Fr("t"), at = "tomorrow" })).Problem(400, "invalid_time");
        await (await marketer.PostAsJsonAsync($"{api}/series/s-nope/episodes", new { content = Fr("t") })).Problem(404, "series_not_found");
        Assert.InRange((int)(await marketer.PostRaw($"{api}/series/{s}/episodes", """{"content":{"fr":null}}""")).StatusCode, 400, 499);
        Assert.InRange((int)(await marketer.PostRaw($"{api}/series/{s}/episodes", """{"content":{"fr":{"title":"t","images":[null]}}}""")).StatusCode, 400, 499);
        Assert.InRange((int)(await marketer.PostRaw($"{api}/series/{s}/episodes", """{"content":{"fr":{"title":"t"}},"position":-1}""")).StatusCode, 400, 499);
        await (await marketer.PostAsJsonAsync($"{api}/series/..%2Fx/episodes", new { content = Fr("t") })).Problem(404, "series_not_found");
        await (await marketer.PostAsync($"{api}/episodes/e-nope/schedule", null)).Problem(404, "episode_not_found");
        await (await marketer.PutAsJsonAsync($"{api}/series/{s}/order", new { episodeIds = new[] { "e-nope" } })).Problem(400, "invalid_order");
        await (await marketer.PutAsJsonAsync($"{api}/episode-settings", new { catchUp = "publishLate", webhookUrl = "ftp://tool.example/hook" })).Problem(400, "invalid_webhook_url");
        await (await marketer.PutAsJsonAsync($"{api}/episode-settings", new { catchUp = "sometimes" })).Problem(400, "malformed_json");
        await (await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes?continuation=bm90LWEtZmVlZC1rZXk")).Problem(400, "invalid_continuation");
        await (await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes?continuation=%%%")).Problem(400, "invalid_continuation");
        await (await kit.App.Client.GetAsync("/api/public/campaigns/no-such-campaign/episodes")).Problem(404, "campaign_not_found");

        // Edits are refused once published; cancelled is final too.
        var e = (await EpisodesKit.EpisodeAsync(marketer, c, s, "Un")).GetProperty("id").GetString()!;
        var d = (await EpisodesKit.EpisodeAsync(marketer, c, s, "Deux", schedule: false)).GetProperty("id").GetString()!;
        Assert.Equal(200, (int)(await marketer.PostAsync($"{api}/episodes/{d}/cancel", null)).StatusCode);
        await (await marketer.PostAsync($"{api}/episodes/{d}/schedule", null)).Problem(409, "episode_cancelled");
        await kit.Tick(Utc(6, 2, 17, 1));
        await (await marketer.PutAsJsonAsync($"{api}/episodes/{e}", new { content = Fr("Modifié") })).Problem(409, "episode_published");
        await (await marketer.PostAsync($"{api}/episodes/{e}/unschedule", null)).Problem(409, "episode_published");
        await (await marketer.PutAsJsonAsync($"{api}/series/{s}/order", new { episodeIds = new[] { e } })).Problem(409, "episode_published");

        // Roles, and a campaign that does not run episodes.
        await (await kit.As("fan").PostAsJsonAsync($"{api}/series", new { name = "x", times = new[] { "2027-06-03T19:00" } })).Problem(403, "forbidden");
        await (await kit.App.Client.GetAsync($"{api}/series")).Problem(401, "unauthorized");
        var voting = await kit.CampaignAsync(marketer, features: ["voting"]);
        await (await marketer.GetAsync($"/api/campaigns/{voting}/series")).Problem(409, "episodes_not_enabled");
    }

    [Fact]
    public async Task Marketers_insert_reorder_and_cancel_until_published_and_the_feed_pages_newest_first_with_an_etag()
    {
        await using var kit = await EpisodesKit.StartAsync(Utc(6, 1, 8));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var api = $"/api/campaigns/{c}";
        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Rennsport", recurrence = new { startDate = "2027-06-02", times = new[] { "10:00", "16:00" }, count = 6 } });
        var a = (await EpisodesKit.EpisodeAsync(marketer, c, s, "A")).GetProperty("id").GetString()!;
        var b = (await EpisodesKit.EpisodeAsync(marketer, c, s, "B")).GetProperty("id").GetString()!;
        var d = (await EpisodesKit.EpisodeAsync(marketer, c, s, "D")).GetProperty("id").GetString()!;
        var inserted = await (await marketer.PostAsJsonAsync($"{api}/series/{s}/episodes", new { content = Fr("C"), position = 2 })).Json();
        var cId = inserted.GetProperty("id").GetString()!;
        Assert.Equal("2027-06-03T10:00:00+02:00", inserted.GetProperty("dueLocal").GetString());
        Assert.Equal(200, (int)(await marketer.PostAsync($"{api}/episodes/{cId}/schedule", null)).StatusCode);

        async Task<List<(string Id, string Local)>> Order() => (await (await marketer.GetAsync($"{api}/series/{s}")).Json()).GetProperty("episodes").EnumerateArray()
            .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("dueLocal").GetString()!)).ToList();
        var order = await Order();
        Assert.Equal([a, b, cId, d], order.Select(o => o.Id));
        Assert.Equal("2027-06-03T16:00:00+02:00", order[3].Local); // D shifted one slot later

        var reordered = await marketer.PutAsJsonAsync($"{api}/series/{s}/order", new { episodeIds = new[] { d, cId, b, a } });
        Assert.Equal(200, (int)reordered.StatusCode);
        Assert.Equal([d, cId, b, a], (await Order()).Select(o => o.Id));
        Assert.Equal(200, (int)(await marketer.PostAsync($"{api}/episodes/{b}/cancel", null)).StatusCode);

        // Stale If-Match on an edit.
        var read = await marketer.GetAsync($"{api}/episodes/{a}");
        var tag = read.Headers.ETag!.Tag;
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"{api}/episodes/{a}", new { content = Fr("A, revu") })).StatusCode);
        using (var stale = new HttpRequestMessage(HttpMethod.Put, $"{api}/episodes/{a}") { Content = JsonContent.Create(new { content = Fr("A3") }) })
        {
            stale.Headers.IfMatch.Add(new EntityTagHeaderValue(tag));
            await (await marketer.SendAsync(stale)).Problem(412, "stale_etag");
        }

        await kit.Tick(Utc(6, 4, 8));
        // All but the cancelled one are out: D (2 June 10:00), C (16:00), A (3 June 16:00).
        var first = await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes?pageSize=2");
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Contains("max-age", first.Headers.CacheControl!.ToString());
        var page1 = await first.Json();
        Assert.Equal([a, cId], page1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal("A, revu", page1.GetProperty("items")[0].GetProperty("content").GetProperty("fr").GetProperty("title").GetString());
        var page2 = await (await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes?pageSize=2&continuation={page1.GetProperty("continuation").GetString()}")).Json();
        Assert.Equal([d], page2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("continuation").ValueKind);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/public/campaigns/{c}/episodes?pageSize=2");
        conditional.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(304, (int)(await kit.App.Client.SendAsync(conditional)).StatusCode);
        Assert.DoesNotContain(b, (await EpisodesKit.FeedAsync(kit.App.Client, c)).Select(i => i.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Engagement_counts_views_and_one_reaction_per_fan_per_episode_with_rates_per_episode_and_per_day()
    {
        var settings = EpisodesKit.Settings();
        settings["Episodes:ViewsPerMinute"] = "6";
        await using var kit = await EpisodesKit.StartAsync(Utc(6, 1, 8), settings);
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Two", times = new[] { "2027-06-01T19:00", "2027-06-02T19:00" } });
        var e1 = (await EpisodesKit.EpisodeAsync(marketer, c, s, "Un")).GetProperty("id").GetString()!;
        var e2 = (await EpisodesKit.EpisodeAsync(marketer, c, s, "Deux")).GetProperty("id").GetString()!;
        await kit.Tick(Utc(6, 1, 17, 1));

        for (var i = 0; i < 4; i++) Assert.Equal(202, (int)(await kit.App.Client.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/views", null)).StatusCode);
        var fanA = kit.As("fan", "fan-a");
        var fanB = kit.As("fan", "fan-b");
        Assert.True((await (await fanA.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/reactions", null)).Json()).GetProperty("counted").GetBoolean());
        Assert.False((await (await fanA.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/reactions", null)).Json()).GetProperty("counted").GetBoolean());
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => fanB.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/reactions", null)));
        Assert.Equal(1, (await Task.WhenAll(concurrent.Select(r => r.Json()))).Count(j => j.GetProperty("counted").GetBoolean()));
        await (await fanA.PostAsync($"/api/public/campaigns/{c}/episodes/{e2}/reactions", null)).Problem(404, "episode_not_found"); // not yet published
        await (await kit.App.Client.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/reactions", null)).Problem(401, "unauthorized");

        // Two more views reach the limit of 6 a minute; the 7th is refused.
        Assert.Equal(202, (int)(await kit.App.Client.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/views", null)).StatusCode);
        await (await kit.App.Client.PostAsync($"/api/public/campaigns/{c}/episodes/{e2}/views", null)).Problem(404, "episode_not_found");
        await (await kit.App.Client.PostAsync($"/api/public/campaigns/{c}/episodes/{e1}/views", null)).Problem(429, "rate_limited");

        var report = await (await marketer.GetAsync($"/api/campaigns/{c}/episodes/engagement")).Json();
        var ep = Assert.Single(report.GetProperty("episodes").EnumerateArray());
        Assert.Equal(e1, ep.GetProperty("episodeId").GetString());
        Assert.Equal(5, ep.GetProperty("views").GetInt64());
        Assert.Equal(2, ep.GetProperty("reactions").GetInt64());
        Assert.Equal(0.4, ep.GetProperty("engagementRate").GetDouble());
        var day = Assert.Single(report.GetProperty("days").EnumerateArray());
        Assert.Equal("2027-06-01", day.GetProperty("day").GetString()); // 19:01 in Zurich
        Assert.Equal(0.4, day.GetProperty("engagementRate").GetDouble());
    }
}
