using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Episodes;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Episodes;

/// <summary>One job that always fails retries, then parks, and never holds back anything else.</summary>
public sealed class ParkedJobsTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2027, month, day, hour, minute, 0, TimeSpan.Zero);

    private sealed class ThrowingReveal(DateTimeOffset at) : IPhaseAction
    {
        public string? CampaignId { get; set; }
        public int Runs;
        public string Kind => "test.reveal";
        public Task<IReadOnlyList<DateTimeOffset>> DueInstantsAsync(string campaignId, CancellationToken ct)
            => Task.FromResult<IReadOnlyList<DateTimeOffset>>(campaignId == CampaignId ? [at] : []);
        /// <summary>Set once "someone fixed the cause": runs from then on succeed.</summary>
        public bool Fixed;
        public int Succeeded;
        public Task RunAsync(string campaignId, DateTimeOffset dueAt, CancellationToken ct)
        {
            Interlocked.Increment(ref Runs);
            if (!Fixed) throw new InvalidOperationException("the reveal always fails (simulated)");
            Interlocked.Increment(ref Succeeded);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_phase_action_that_always_throws_is_parked_and_an_episode_due_8_days_later_is_published_on_time()
    {
        var reveal = new ThrowingReveal(Utc(4, 1, 16, 30));
        await using var kit = await EpisodesKit.StartAsync(Utc(4, 1, 12), customize: b => b.Services.AddSingleton<IPhaseAction>(reveal));
        var marketer = kit.As("marketer");
        var failing = await kit.CampaignAsync(marketer);
        reveal.CampaignId = failing;
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{failing}/schedule/sync", null)).StatusCode);
        // Another campaign's episode, 19:00 Zurich (17:00 UTC) eight days after the failing reveal.
        var other = await kit.CampaignAsync(marketer);
        var series = await EpisodesKit.SeriesAsync(marketer, other, new { name = "Later", times = new[] { "2027-04-09T19:00" } });
        var episode = (await EpisodesKit.EpisodeAsync(marketer, other, series, "Eight days on")).GetProperty("id").GetString()!;

        // The timer every hour for eight days, as the host runs it; a failing tick is retried by the host, so go on.
        for (var t = Utc(4, 1, 16, 31); t < Utc(4, 9, 17); t = t.AddHours(1))
        {
            try { await kit.Tick(t); } catch (AggregateException) { }
        }
        try { await kit.Tick(Utc(4, 9, 17, 1)); } catch (AggregateException) { }

        var feed = await EpisodesKit.FeedAsync(kit.App.Client, other);
        Assert.True(feed.Count == 1, "the episode due 8 days after the failing reveal was not published");
        Assert.Equal(episode, feed[0].GetProperty("id").GetString());
        Assert.Equal(Utc(4, 9, 17), feed[0].GetProperty("scheduledFor").GetDateTimeOffset());
        Assert.True(feed[0].GetProperty("publishedAt").GetDateTimeOffset() <= Utc(4, 9, 17, 1), "published late");

        // Retried with backoff (not every tick), then parked: visible to staff and in the campaign's schedule audit.
        Assert.InRange(reveal.Runs, 2, 10);
        var parked = (await (await marketer.GetAsync($"/api/campaigns/{failing}/schedule/parked")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Single(parked);
        Assert.Equal("test.reveal", parked[0].GetProperty("target").GetString());
        Assert.Equal(Utc(4, 1, 16, 30), parked[0].GetProperty("dueAt").GetDateTimeOffset());
        Assert.Contains("always fails", parked[0].GetProperty("lastError").GetString());
        var audit = await (await marketer.GetAsync($"/api/campaigns/{failing}/schedule/audit")).Json();
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("kind").GetString() == "job.parked");
    }

    [Fact]
    public async Task A_parked_job_retried_by_a_marketer_after_the_fix_runs_once_at_the_next_tick_and_leaves_the_parked_list()
    {
        var due = Utc(4, 1, 16, 30);
        var reveal = new ThrowingReveal(due);
        await using var kit = await EpisodesKit.StartAsync(Utc(4, 1, 12), customize: b => b.Services.AddSingleton<IPhaseAction>(reveal));
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        reveal.CampaignId = c;
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/schedule/sync", null)).StatusCode);
        var t = Utc(4, 1, 16, 31);
        for (; t < Utc(4, 2, 16); t = t.AddMinutes(10))
        {
            try { await kit.Tick(t); } catch (AggregateException) { }
        }
        Assert.Equal(JobRetry.MaxAttempts, reveal.Runs);
        var job = new { type = "phase", target = "test.reveal", dueAt = due };

        // Nothing runs a parked job on its own, however many ticks pass.
        try { await kit.Tick(t.AddHours(6)); } catch (AggregateException) { }
        Assert.Equal(JobRetry.MaxAttempts, reveal.Runs);

        // A viewer may read the parked list, not retry; an unknown job is 404.
        await (await kit.As("viewer").PostAsJsonAsync($"/api/campaigns/{c}/schedule/parked/retry", job)).Problem(403, "forbidden");
        await (await marketer.PostAsJsonAsync($"/api/campaigns/{c}/schedule/parked/retry", job with { target = "voting.reveal" }))
            .Problem(404, "job_not_parked");

        reveal.Fixed = true;
        var retried = await marketer.PostAsJsonAsync($"/api/campaigns/{c}/schedule/parked/retry", job);
        Assert.Equal(202, (int)retried.StatusCode);
        // A second request for the same job (a double click) finds nothing parked: it runs once.
        await (await marketer.PostAsJsonAsync($"/api/campaigns/{c}/schedule/parked/retry", job)).Problem(404, "job_not_parked");
        Assert.Empty((await (await marketer.GetAsync($"/api/campaigns/{c}/schedule/parked")).Json()).GetProperty("items").EnumerateArray());

        await kit.Tick(t.AddHours(6).AddMinutes(1));
        await kit.Tick(t.AddHours(6).AddMinutes(2));
        Assert.Equal(1, reveal.Succeeded);
        var phases = (await (await marketer.GetAsync($"/api/campaigns/{c}/schedule/phases")).Json()).GetProperty("items").EnumerateArray();
        Assert.Contains(phases, p => p.GetProperty("kind").GetString() == "test.reveal" && p.GetProperty("status").GetString() == "done");
        var audit = (await (await marketer.GetAsync($"/api/campaigns/{c}/schedule/audit")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(audit, e => e.GetProperty("kind").GetString() == "job.retry_requested" && e.GetProperty("detail").GetString()!.Contains("marketer"));
    }

    [Fact]
    public void Failures_back_off_doubling_and_park_after_the_last_attempt()
    {
        var item = new DueItem("c", DueItem.Phase, "voting.reveal", Utc(4, 1, 16));
        var now = Utc(4, 1, 16, 1);
        var job = JobRetry.Fail(null, item, "boom", now);
        Assert.Equal((1, now.AddMinutes(5), false), (job.Attempts, job.NextAt, job.Parked));
        job = JobRetry.Fail(job, item, "boom again", job.NextAt);
        Assert.Equal((2, now.AddMinutes(15), false, now, "boom again"), (job.Attempts, job.NextAt, job.Parked, job.FirstFailedAt, job.LastError));
        for (var i = 3; i <= JobRetry.MaxAttempts; i++) job = JobRetry.Fail(job, item, "boom", job.NextAt);
        Assert.True(job.Parked);
        Assert.Equal(JobRetry.MaxAttempts, job.Attempts);
    }
}
