using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Episodes;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Episodes;

/// <summary>Publishing through the real program against Azurite, with a fake clock and a local webhook receiver.</summary>
public sealed class PublishingTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0, int second = 0) => new(2027, month, day, hour, minute, second, TimeSpan.Zero);

    [Fact]
    public async Task Daily_19_00_Zurich_across_spring_forward_is_invisible_before_its_time_and_a_3_hour_outage_catches_up_exactly_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var kit = await EpisodesKit.StartAsync(Utc(3, 26, 12));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var set = await marketer.PutAsJsonAsync($"/api/campaigns/{c}/episode-settings", new { catchUp = "publishLate", webhookUrl = receiver.Url("hook") });
        Assert.Equal(200, (int)set.StatusCode);
        receiver.Secrets["hook"] = (await set.Json()).GetProperty("webhookSecret").GetString()!;

        // Preview: exact local and UTC instants on both sides of the change (28 March 2027).
        var preview = await (await marketer.PostAsJsonAsync($"/api/campaigns/{c}/series/preview",
            new { recurrence = new { startDate = "2027-03-27", times = new[] { "19:00" }, count = 3 }, count = 3 })).Json();
        var occ = preview.GetProperty("occurrences").EnumerateArray().ToList();
        Assert.Equal(["2027-03-27T19:00:00+01:00", "2027-03-28T19:00:00+02:00", "2027-03-29T19:00:00+02:00"], occ.Select(o => o.GetProperty("local").GetString()));
        Assert.Equal([Utc(3, 27, 18), Utc(3, 28, 17), Utc(3, 29, 17)], occ.Select(o => o.GetProperty("utc").GetDateTimeOffset()));

        var series = await EpisodesKit.SeriesAsync(marketer, c, new { name = "La série", recurrence = new { startDate = "2027-03-27", times = new[] { "19:00" }, count = 3 } });
        var eps = new List<string>();
        for (var i = 1; i <= 3; i++) eps.Add((await EpisodesKit.EpisodeAsync(marketer, c, series, $"Épisode {i}")).GetProperty("id").GetString()!);
        var detail = await (await marketer.GetAsync($"/api/campaigns/{c}/series/{series}")).Json();
        Assert.Equal(["2027-03-27T19:00:00+01:00", "2027-03-28T19:00:00+02:00", "2027-03-29T19:00:00+02:00"],
            detail.GetProperty("episodes").EnumerateArray().Select(e => e.GetProperty("dueLocal").GetString()));

        // Before its time a scheduled episode is invisible through every public endpoint.
        var fan = kit.As("fan", "fan-early");
        await kit.Tick(Utc(3, 27, 17, 59, 59));
        Assert.Empty(await EpisodesKit.FeedAsync(kit.App.Client, c));
        await (await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes/{eps[0]}")).Problem(404, "episode_not_found");
        await (await kit.App.Client.PostAsync($"/api/public/campaigns/{c}/episodes/{eps[0]}/views", null)).Problem(404, "episode_not_found");
        await (await fan.PostAsync($"/api/public/campaigns/{c}/episodes/{eps[0]}/reactions", null)).Problem(404, "episode_not_found");

        await kit.Tick(Utc(3, 27, 18, 0, 20));
        var feed = await EpisodesKit.FeedAsync(kit.App.Client, c);
        Assert.Equal([eps[0]], feed.Select(f => f.GetProperty("id").GetString()));
        Assert.Equal(200, (int)(await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes/{eps[0]}")).StatusCode);
        await (await kit.App.Client.GetAsync($"/api/public/campaigns/{c}/episodes/{eps[1]}")).Problem(404, "episode_not_found");

        // A tick at 16:00 UTC on the 28th, then three hours down; episode 2 fell due at 17:00 UTC (19:00 CEST).
        await kit.Tick(Utc(3, 28, 16));
        Assert.Single(await EpisodesKit.FeedAsync(kit.App.Client, c));
        var back = Utc(3, 28, 19, 0, 5);
        var reports = await Task.WhenAll(kit.Tick(back), kit.Tick(back), kit.Tick(back)); // overlapping ticks after the restart
        Assert.Equal(1, reports.Sum(r => r.Published)); // exactly one of them published it
        var after = await kit.Tick(back.AddMinutes(1));
        Assert.Equal((0, Utc(3, 28, 19)), (after.Published, after.Cursor)); // the cursor moved past the outage: no rescan
        feed = await EpisodesKit.FeedAsync(kit.App.Client, c);
        Assert.Equal([eps[1], eps[0]], feed.Select(f => f.GetProperty("id").GetString())); // newest first, once each
        var late = await (await marketer.GetAsync($"/api/campaigns/{c}/episodes/{eps[1]}")).Json();
        Assert.Equal("published", late.GetProperty("state").GetString());
        Assert.True(late.GetProperty("late").GetBoolean());
        Assert.Equal(back, late.GetProperty("publishedAt").GetDateTimeOffset());

        // Published episodes are history.
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/episodes/{eps[1]}",
            new { content = new Dictionary<string, object> { ["fr"] = new { title = "Changé" } } })).Problem(409, "episode_published");
        await (await marketer.PostAsync($"/api/campaigns/{c}/episodes/{eps[0]}/cancel", null)).Problem(409, "episode_published");

        // One signed webhook per published episode.
        await EpisodesKit.WaitFor(() => receiver.Deliveries.Count >= 2, "two webhooks");
        await EpisodesKit.WaitFor(() => kit.App.Service<StorageClients>().Queue(kit.App.Service<Microsoft.Extensions.Options.IOptions<EpisodesOptions>>().Value.WebhookQueue)
            .GetProperties().Value.ApproximateMessagesCount == 0, "the webhook queue to drain");
        var deliveries = receiver.Deliveries.ToList();
        Assert.Equal(2, deliveries.Count);
        Assert.All(deliveries, d => Assert.True(d.SignatureValid));
        Assert.Equal(new[] { $"{c}.{eps[0]}.published", $"{c}.{eps[1]}.published" }.Order(), deliveries.Select(d => d.Id).Order());
        var body = JsonDocument.Parse(deliveries.Single(d => d.Id.Contains(eps[1])).Body).RootElement;
        Assert.Equal("episode.published", body.GetProperty("type").GetString());
        Assert.Equal("Épisode 2", body.GetProperty("episode").GetProperty("content").GetProperty("fr").GetProperty("title").GetString());
        // Signed at send time (the fake clock): within the minute after the catch-up.
        Assert.InRange(deliveries.Single(d => d.Id.Contains(eps[1])).Timestamp, back.ToUnixTimeSeconds(), back.AddMinutes(1).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_campaign_that_skips_late_episodes_cancels_them_with_one_audit_entry()
    {
        await using var kit = await EpisodesKit.StartAsync(Utc(10, 29, 12));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/episode-settings", new { catchUp = "skip", lateAfterMinutes = 10 })).StatusCode);
        // Fall back on 31 October 2027: 19:00 is 17:00 UTC on the 30th and 18:00 UTC on the 31st.
        var series = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Autumn", recurrence = new { startDate = "2027-10-30", times = new[] { "19:00" }, until = "2027-10-31" } });
        var e1 = (await EpisodesKit.EpisodeAsync(marketer, c, series, "Samedi")).GetProperty("id").GetString()!;
        var e2 = (await EpisodesKit.EpisodeAsync(marketer, c, series, "Dimanche")).GetProperty("id").GetString()!;

        await kit.Tick(Utc(10, 30, 16, 59));
        Assert.Empty(await EpisodesKit.FeedAsync(kit.App.Client, c));
        await kit.Tick(Utc(10, 30, 17, 1)); // on time (within 10 minutes)
        await kit.Tick(Utc(10, 31, 17, 59));
        Assert.Single(await EpisodesKit.FeedAsync(kit.App.Client, c));
        // Down from 17:59 to 21:00 UTC: episode 2 (18:00 UTC) is three hours late and is skipped.
        await Task.WhenAll(kit.Tick(Utc(10, 31, 21)), kit.Tick(Utc(10, 31, 21)));
        await kit.Tick(Utc(10, 31, 21, 1));

        var feed = await EpisodesKit.FeedAsync(kit.App.Client, c);
        Assert.Equal([e1], feed.Select(f => f.GetProperty("id").GetString()));
        var skipped = await (await marketer.GetAsync($"/api/campaigns/{c}/episodes/{e2}")).Json();
        Assert.Equal("cancelled", skipped.GetProperty("state").GetString());
        Assert.Equal("missed", skipped.GetProperty("cancelReason").GetString());
        Assert.Equal("2027-10-31T19:00:00+01:00", skipped.GetProperty("dueLocal").GetString());
        var audit = await (await marketer.GetAsync($"/api/campaigns/{c}/schedule/audit")).Json();
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal("episode.skipped", entry.GetProperty("kind").GetString());
        Assert.Equal(e2, entry.GetProperty("episodeId").GetString());
    }

    [Fact]
    public async Task Two_instances_publishing_concurrently_never_double_publish()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = EpisodesKit.Settings();
        await using var a = await EpisodesKit.StartAsync(Utc(6, 1, 8), settings);
        await using var b = await EpisodesKit.StartAsync(Utc(6, 1, 8), settings, time: a.Time);
        var marketer = a.As("marketer");
        var c = await a.CampaignAsync(marketer);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/episode-settings", new { catchUp = "publishLate", webhookUrl = receiver.Url("race") })).StatusCode);
        var times = Enumerable.Range(0, 12).Select(i => $"2027-06-01T19:{i:00}").ToArray();
        var series = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Burst", times });
        var ids = new List<string>();
        foreach (var i in Enumerable.Range(0, 12)) ids.Add((await EpisodesKit.EpisodeAsync(marketer, c, series, $"E{i}")).GetProperty("id").GetString()!);

        for (var minute = 0; minute < 13; minute += 4)
        {
            var now = Utc(6, 1, 17, minute, 30);
            await Task.WhenAll(a.Tick(now), b.Tick(now), a.Tick(now), b.Tick(now));
        }

        var feed = await EpisodesKit.FeedAsync(a.App.Client, c);
        Assert.Equal(12, feed.Count);
        Assert.Equal(ids.Order(), feed.Select(f => f.GetProperty("id").GetString()!).Order());
        await EpisodesKit.WaitFor(() => receiver.Deliveries.Count >= 12, "twelve webhooks");
        var queue = a.App.Service<StorageClients>().Queue(settings["Episodes:WebhookQueue"]!);
        await EpisodesKit.WaitFor(() => queue.GetProperties().Value.ApproximateMessagesCount == 0, "the webhook queue to drain");
        var deliveries = receiver.Deliveries.ToList();
        Assert.Equal(12, deliveries.Count);
        Assert.Equal(12, deliveries.Select(d => d.Id).Distinct().Count());
    }

    [Fact]
    public async Task Webhooks_are_retried_with_backoff_on_failure_and_dead_lettered_after_the_last_attempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailFirst["flaky"] = 2;
        receiver.FailFirst["down"] = int.MaxValue;
        var settings = EpisodesKit.Settings();
        settings["Episodes:WebhookMaxAttempts"] = "3";
        await using var kit = await EpisodesKit.StartAsync(Utc(6, 1, 8), settings);
        var marketer = kit.As("marketer");
        var flaky = await kit.CampaignAsync(marketer);
        var down = await kit.CampaignAsync(marketer);
        var setFlaky = await marketer.PutAsJsonAsync($"/api/campaigns/{flaky}/episode-settings", new { catchUp = "publishLate", webhookUrl = receiver.Url("flaky") });
        Assert.Equal(200, (int)setFlaky.StatusCode);
        receiver.Secrets["flaky"] = (await setFlaky.Json()).GetProperty("webhookSecret").GetString()!;
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{down}/episode-settings", new { catchUp = "publishLate", webhookUrl = receiver.Url("down") })).StatusCode);
        foreach (var c in new[] { flaky, down })
        {
            var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "One", times = new[] { "2027-06-01T19:00" } });
            await EpisodesKit.EpisodeAsync(marketer, c, s, "Only");
        }
        await kit.Tick(Utc(6, 1, 17, 0, 10));

        var o = settings["Episodes:WebhookQueue"]!;
        var deadLetter = kit.App.Service<StorageClients>().Queue(o + "-deadletter");
        await EpisodesKit.WaitFor(() => receiver.Deliveries.Count(d => d.Path == "flaky" && d.Answered == 200) == 1, "the flaky receiver to accept");
        await EpisodesKit.WaitFor(() => deadLetter.PeekMessages(1).Value.Length == 1, "the dead letter");

        var flakyCalls = receiver.Deliveries.Where(d => d.Path == "flaky").ToList();
        Assert.Equal([500, 500, 200], flakyCalls.Select(d => d.Answered));
        Assert.Single(flakyCalls.Select(d => d.Id).Distinct()); // same event id on every attempt: receivers can dedupe
        Assert.All(flakyCalls, d => Assert.True(d.SignatureValid));
        var downCalls = receiver.Deliveries.Where(d => d.Path == "down").ToList();
        Assert.Equal(3, downCalls.Count);
        var dead = JsonSerializer.Deserialize<WebhookMessage>(deadLetter.PeekMessages(1).Value[0].Body.ToString(), JsonDefaults.Options)!;
        Assert.Equal((down, 3), (dead.CampaignId, dead.Attempt));
        var store = kit.App.Service<EpisodeStore>();
        var episodeId = dead.EpisodeId;
        Assert.Equal(WebhookDelivery.DeadLettered, (await store.GetDoc<WebhookDelivery>(down, EpisodeWebhooks.DeliveryKey(episodeId), default))!.Value.Doc.Status);
    }

    [Fact]
    public async Task Moved_and_unscheduled_episodes_publish_at_their_new_time_or_not_at_all()
    {
        await using var kit = await EpisodesKit.StartAsync(Utc(9, 1, 8));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Moves", recurrence = new { startDate = "2027-09-02", times = new[] { "19:00" }, count = 3 } });
        var a = (await EpisodesKit.EpisodeAsync(marketer, c, s, "A")).GetProperty("id").GetString()!;
        var b = (await EpisodesKit.EpisodeAsync(marketer, c, s, "B")).GetProperty("id").GetString()!;
        var x = (await EpisodesKit.EpisodeAsync(marketer, c, s, "X")).GetProperty("id").GetString()!;
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/series/{s}/order", new { episodeIds = new[] { b, a, x } })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/episodes/{x}/unschedule", null)).StatusCode);

        await kit.Tick(Utc(9, 2, 17, 1)); // 2 September 19:00 CEST: the slot A had before the reorder
        Assert.Equal([b], (await EpisodesKit.FeedAsync(kit.App.Client, c)).Select(f => f.GetProperty("id").GetString()));
        await kit.Tick(Utc(9, 3, 17, 1));
        await kit.Tick(Utc(9, 4, 17, 1));
        Assert.Equal([a, b], (await EpisodesKit.FeedAsync(kit.App.Client, c)).Select(f => f.GetProperty("id").GetString()));
        var draft = await (await marketer.GetAsync($"/api/campaigns/{c}/episodes/{x}")).Json();
        Assert.Equal("draft", draft.GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_functions_host_can_fire_the_scheduler_timer_with_a_TimerInfo_payload()
    {
        await using var kit = await EpisodesKit.StartAsync(Utc(5, 1, 8));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "One", times = new[] { "2027-05-01T19:00" } });
        var e = (await EpisodesKit.EpisodeAsync(marketer, c, s, "Host")).GetProperty("id").GetString()!;
        kit.Time.SetUtcNow(Utc(5, 1, 17, 0, 2));
        var payload = """{"Data":{"timer":{"Schedule":{"AdjustForDST":false},"ScheduleStatus":{"Last":"2027-05-01T16:59:00Z","Next":"2027-05-01T17:01:00Z","LastUpdated":"2027-05-01T17:00:00Z"},"IsPastDue":false}},"Metadata":{}}""";
        var r = await kit.App.InvokeAsync("EpisodesScheduler", payload);
        Assert.Equal(200, (int)r.StatusCode);
        Assert.Equal([e], (await EpisodesKit.FeedAsync(kit.App.Client, c)).Select(f => f.GetProperty("id").GetString()));
        Assert.Equal(200, (int)(await kit.App.InvokeAsync("EpisodesPhaseSync", payload)).StatusCode);
    }

    private sealed class CountingAction(DateTimeOffset at) : IPhaseAction
    {
        public string? CampaignId { get; set; }
        public ConcurrentDictionary<(string, DateTimeOffset), int> Runs { get; } = new();
        public string Kind => "test.reveal";
        public Task<IReadOnlyList<DateTimeOffset>> DueInstantsAsync(string campaignId, CancellationToken ct)
            => Task.FromResult<IReadOnlyList<DateTimeOffset>>(campaignId == CampaignId ? [at] : []);
        public async Task RunAsync(string campaignId, DateTimeOffset dueAt, CancellationToken ct)
        {
            await Task.Delay(50, ct); // long enough for an overlapping tick to try the same run
            Runs.AddOrUpdate((campaignId, dueAt), 1, (_, n) => n + 1);
        }
    }

    [Fact]
    public async Task Phase_actions_and_window_transitions_run_once_at_their_instants_even_with_overlapping_ticks()
    {
        var action = new CountingAction(Utc(4, 1, 16, 30));
        await using var kit = await EpisodesKit.StartAsync(Utc(4, 1, 12), customize: b => b.Services.AddSingleton<IPhaseAction>(action));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer, new
        {
            publish = EpisodesKit.Window(Utc(1, 1, 0), Utc(12, 31, 0)),
            entry = EpisodesKit.Window(Utc(4, 1, 13), Utc(4, 1, 15)),
            voting = EpisodesKit.Window(Utc(4, 1, 14), Utc(4, 1, 16)),
        });
        action.CampaignId = c;
        var synced = await (await marketer.PostAsync($"/api/campaigns/{c}/schedule/sync", null)).Json();
        Assert.Equal(5, synced.GetProperty("indexed").GetInt32());
        Assert.Equal(0, (await (await marketer.PostAsync($"/api/campaigns/{c}/schedule/sync", null)).Json()).GetProperty("indexed").GetInt32());

        await kit.Tick(Utc(4, 1, 13, 30));
        var audit = await (await marketer.GetAsync($"/api/campaigns/{c}/schedule/phases")).Json();
        Assert.Equal(["entry.open"], audit.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("kind").GetString()));
        Assert.Empty(action.Runs);

        var now = Utc(4, 1, 16, 31);
        await Task.WhenAll(kit.Tick(now), kit.Tick(now), kit.Tick(now));
        await kit.Tick(now.AddMinutes(1));
        Assert.Equal(1, action.Runs[(c, Utc(4, 1, 16, 30))]);
        audit = await (await marketer.GetAsync($"/api/campaigns/{c}/schedule/phases")).Json();
        var phases = audit.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(new[] { "entry.close", "entry.open", "test.reveal", "voting.close", "voting.open" },
            phases.Select(p => p.GetProperty("kind").GetString()).Order());
        Assert.All(phases, p => Assert.Equal("done", p.GetProperty("status").GetString()));
        Assert.Equal(Utc(4, 1, 16, 30), phases.Single(p => p.GetProperty("kind").GetString() == "test.reveal").GetProperty("dueAt").GetDateTimeOffset());
    }
}
