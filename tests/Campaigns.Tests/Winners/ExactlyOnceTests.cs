using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Winners;
using static Campaigns.Tests.Winners.WinnersKit;

namespace Campaigns.Tests.Winners;

/// <summary>Nothing lost, nothing applied twice: retried requests and a crash between the draw and its notifications.</summary>
public sealed class ExactlyOnceTests
{
    private static async Task<(TestApp App, Microsoft.Extensions.Time.Testing.FakeTimeProvider Time, string Campaign)> DrawReadyAsync(
        FakeCapabilities fakes, WebhookCapture? webhook = null, WinnersFaults? faults = null)
    {
        var (app, time) = await StartAsync(fakes, webhook, b =>
        {
            fakes.Register(b);
            if (faults is not null) b.Services.AddSingleton(faults);
        });
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        fakes.Voters[c] = Enumerable.Range(0, 6).Select(i => $"fan-{i}").ToList();
        foreach (var f in fakes.Voters[c]) await FanAsync(app, c, f, now);
        var marketer = app.As("marketer");
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/prize", new { method = "random", pool = "voters", winners = 2, alternates = 3 })).StatusCode);
        return (app, time, c);
    }

    private static Task<HttpResponseMessage> Post(HttpClient client, string url, object? body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    [Fact]
    public async Task A_retried_promote_with_the_same_Idempotency_Key_promotes_one_alternate_and_answers_the_same()
    {
        var (app, time, c) = await DrawReadyAsync(new FakeCapabilities());
        await using var _ = app;
        var marketer = app.As("marketer");
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/run", null)).StatusCode);

        var url = $"/api/campaigns/{c}/draws/prize/winners/1/promote";
        var first = await (await Post(marketer, url, new { reason = "declined" }, "promote-1")).Json();
        time.Advance(TimeSpan.FromMinutes(1));
        // The response was lost; the client sends the same request again.
        var retry = await Post(marketer, url, new { reason = "declined" }, "promote-1");
        Assert.Equal(200, (int)retry.StatusCode);
        var again = await retry.Json();
        Assert.Equal(2, again.GetProperty("alternatesLeft").GetInt32());
        Assert.Single(again.GetProperty("events").EnumerateArray());
        Assert.Equal(first.GetProperty("slots").GetRawText(), again.GetProperty("slots").GetRawText());
        // The same key for another request is a client bug, refused rather than guessed at.
        await (await Post(marketer, url, new { reason = "ineligible" }, "promote-1")).Problem(422, "idempotency_key_reused");
        await (await Post(marketer, $"/api/campaigns/{c}/draws/prize/winners/2/promote", new { reason = "declined" }, "promote-1")).Problem(422, "idempotency_key_reused");
        await (await Post(marketer, url, new { reason = "declined" }, "not a key!")).Problem(400, "invalid_idempotency_key");
        // A new key is a new promotion.
        var second = await (await Post(marketer, url, new { reason = "declined" }, "promote-2")).Json();
        Assert.Equal(1, second.GetProperty("alternatesLeft").GetInt32());
    }

    [Fact]
    public async Task Retried_commit_and_run_with_the_same_Idempotency_Key_answer_the_first_result_again()
    {
        var (app, time, c) = await DrawReadyAsync(new FakeCapabilities());
        await using var _ = app;
        var marketer = app.As("marketer");
        var commit = await (await Post(marketer, $"/api/campaigns/{c}/draws/prize/commit", null, "commit-1")).Json();
        var commitRetry = await Post(marketer, $"/api/campaigns/{c}/draws/prize/commit", null, "commit-1");
        Assert.Equal(200, (int)commitRetry.StatusCode);
        Assert.Equal(commit.GetProperty("commitment").GetString(), (await commitRetry.Json()).GetProperty("commitment").GetString());
        await (await Post(marketer, $"/api/campaigns/{c}/draws/prize/commit", null, "commit-2")).Problem(409, "already_committed");

        time.Advance(TimeSpan.FromDays(1));
        var run = await Post(marketer, $"/api/campaigns/{c}/draws/prize/run", null, "run-1");
        Assert.Equal(200, (int)run.StatusCode);
        var record = await run.Content.ReadAsStringAsync();
        var runRetry = await Post(marketer, $"/api/campaigns/{c}/draws/prize/run", null, "run-1");
        Assert.Equal(200, (int)runRetry.StatusCode);
        Assert.Equal(record, await runRetry.Content.ReadAsStringAsync());
        await (await Post(marketer, $"/api/campaigns/{c}/draws/prize/run", null, "run-2")).Problem(409, "already_drawn");
        await (await Post(marketer, $"/api/campaigns/{c}/draws/prize/run", null, "commit-1")).Problem(422, "idempotency_key_reused");
    }

    [Fact]
    public async Task Winner_notifications_recorded_with_the_draw_are_delivered_by_the_sweep_after_a_crash_exactly_once()
    {
        var webhook = new WebhookCapture();
        var faults = new WinnersFaults();
        var (app, time, c) = await DrawReadyAsync(new FakeCapabilities(), webhook, faults);
        await using var _ = app;
        var marketer = app.As("marketer");
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromDays(1));

        // The process stops right after the draw is saved, before anything is queued.
        faults.AfterDrawCommit = _ => throw new InvalidOperationException("process stopped (simulated)");
        var action = Assert.Single(app.Services.GetServices<IPhaseAction>(), a => a.Kind == "winners.draw");
        var due = Assert.Single(await action.DueInstantsAsync(c, default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => action.RunAsync(c, due, default));
        faults.AfterDrawCommit = null;
        var view = await (await marketer.GetAsync($"/api/campaigns/{c}/draws/prize")).Json();
        Assert.Equal("drawn", view.GetProperty("status").GetString());
        Assert.Empty(webhook.Received);

        // The scheduler's next pass (the sweep) sends what the draw recorded; a second pass sends nothing again.
        var pending = await action.DueInstantsAsync(c, default);
        Assert.NotEmpty(pending);
        foreach (var at in pending) await action.RunAsync(c, at, default);
        await Eventually(() => webhook.Received.Count >= 2);
        Assert.Empty(await action.DueInstantsAsync(c, default));
        await action.RunAsync(c, due, default);
        await Task.Delay(1500);
        var ids = webhook.Received.Select(r => r.Request.Headers.GetValues("webhook-id").Single()).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Equal(2, ids.Distinct().Count());
        var pids = webhook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("pid").GetString()).ToHashSet();
        Assert.Equal(view.GetProperty("slots").EnumerateArray().Select(s => s.GetProperty("pid").GetString()).ToHashSet(), pids);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition(), "condition not met within 30 s");
    }
}
