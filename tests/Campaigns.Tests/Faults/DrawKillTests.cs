using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Voting;
using Campaigns.Tests.Winners;
using Campaigns.Winners;
using Xunit.Abstractions;

namespace Campaigns.Tests.Faults;

/// <summary>
/// A draw run in its own process, killed (SIGKILL) once its frozen eligible list is in storage — the run is under way,
/// its answer never arrives — and retried with the same Idempotency-Key: one draw, the same winners on every retry.
/// </summary>
public sealed class DrawKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_draw_run_killed_mid_way_and_retried_with_its_key_makes_one_draw_with_the_same_winners()
    {
        const int voters = 30;
        // Setup and retries in-process on the real clock (the draw window must really close); the run that is killed in
        // its own process over the same storage.
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var now = DateTimeOffset.UtcNow;
        var c = WinnersKit.NewId();
        var marketer = app.As("marketer");
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync("/api/campaigns", WinnersKit.CampaignBody(c, now, 18, ["CH", "DE"]))).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/publish", null)).StatusCode);
        await VotingKit.PutBallotAsync(app, c, VotingKit.Ballot());
        var fans = Enumerable.Range(0, voters).Select(i => $"draw-fan-{i}-{Guid.NewGuid():N}"[..24]).ToList();
        foreach (var chunk in fans.Chunk(10))
            await Task.WhenAll(chunk.Select(async f =>
            {
                await WinnersKit.FanAsync(app, c, f, now);
                var r = await app.As("fan", f).PostAsJsonAsync($"/api/campaigns/{c}/rounds/r1/votes", VotingKit.Choices(("colour", "red"), ("wheels", "sport")));
                Assert.Equal(202, (int)r.StatusCode);
            }));
        await VotingKit.SettledAsync(app, c, voters);

        var closeAt = DateTimeOffset.UtcNow.AddSeconds(3);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", new { method = "random", pool = "voters", winners = 3, alternates = 2, closeAt })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/d1/commit", null)).StatusCode);
        while (DateTimeOffset.UtcNow <= closeAt.AddMilliseconds(200)) await Task.Delay(100);

        var lists = app.Service<global::Campaigns.Platform.StorageClients>().Container(DrawStore.ContainerName);
        async Task<List<string>> ListBlobsAsync()
        {
            var names = new List<string>();
            await foreach (var b in lists.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{c}/d1/", CancellationToken.None)) names.Add(b.Name);
            return names;
        }

        var settings = TestApp.Settings(Azurite.Instance);
        settings["Demo:Seed"] = "false";
        string stateAtKill;
        await using (var process = await ServiceProcess.StartAsync(settings, standalone: false, app.WorkspaceId))
        {
            var staff = process.As("marketer", "m-draw");
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{c}/draws/d1/run");
            request.Headers.Add("Idempotency-Key", "run-d1");
            var run = staff.SendAsync(request);
            while ((await ListBlobsAsync()).Count == 0 && !run.IsCompleted) await Task.Delay(5);
            process.Kill();
            stateAtKill = run.IsCompletedSuccessfully ? $"answered {(int)(await run).StatusCode}" : "no answer";
            var stored = await app.Service<DrawStore>().GetAsync(c, "d1", CancellationToken.None);
            stateAtKill += $", stored status {stored?.State.Status}";
        }
        output.WriteLine("killed: " + stateAtKill);

        async Task<JsonElement> RetryAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{c}/draws/d1/run");
            request.Headers.Add("Idempotency-Key", "run-d1");
            var r = await marketer.SendAsync(request);
            var body = await r.Json();
            Assert.True(200 == (int)r.StatusCode, $"{(int)r.StatusCode} {body} (killed: {stateAtKill})");
            return body;
        }
        var first = await RetryAsync();
        var again = await RetryAsync();
        Assert.Equal(first.GetProperty("winnerIds").GetRawText(), again.GetProperty("winnerIds").GetRawText());
        // A different key is a new request: refused, the draw is never re-run.
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/d1/run", null)).Problem(409, "already_drawn");

        var state = (await app.Service<DrawStore>().GetAsync(c, "d1", CancellationToken.None))!.Value.State;
        Assert.Equal(DrawStatus.Drawn, state.Status);
        var slotFans = state.Slots!.Select(s => s.FanId).ToList();
        Assert.Equal(3, slotFans.Count);
        Assert.Equal(slotFans.Count, first.GetProperty("winnerIds").GetArrayLength());
        Assert.Equal(slotFans.Count, slotFans.Distinct().Count());
        Assert.All(slotFans, f => Assert.Contains(f, fans));
        Assert.Empty(state.Outbox ?? []);
        // One frozen list: a re-run after the kill froze the same eligible people, so the same blob.
        Assert.Single(await ListBlobsAsync());
    }
}
