using System.Diagnostics;
using System.Net.Http.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Campaigns.Tests.Moderation;

/// <summary>Four moderators drain a queue of 300 items in claimed batches; prints rates (no timed assertions).</summary>
public sealed class ModerationBenchmarks(ITestOutputHelper output)
{
    [Fact]
    public async Task Four_moderators_drain_a_queue_without_overlap()
    {
        const int items = 300, batch = 25;
        // Entries exist only in the moderation queue here, so the submissions side is a recording stand-in.
        var entries = new FakeEntries();
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<IEntryModeration>(entries);
            b.Services.AddSingleton<IEntryDirectory>(entries);
        });
        var c = await app.CampaignAsync("bench-" + Guid.NewGuid().ToString("N")[..10]);
        var queue = app.Service<IReviewQueue>();
        var now = DateTimeOffset.UtcNow;

        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, items), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await queue.EnqueueAsync(new ReviewRequest(c, $"e{i:D4}", $"fan-{i % 97}", "photo", "fr", now.AddSeconds(i), "review", null, [], "x"), ct));
        var enqueue = sw.Elapsed;

        var decided = new System.Collections.Concurrent.ConcurrentBag<string>();
        var claimTimes = new System.Collections.Concurrent.ConcurrentBag<double>();
        sw.Restart();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async m =>
        {
            var client = app.As("moderator", $"bench-mod-{m}");
            for (var round = 0; round < items; round++)
            {
                var t = Stopwatch.StartNew();
                var claim = await (await client.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = batch })).Json();
                claimTimes.Add(t.Elapsed.TotalMilliseconds);
                var ids = claim.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()!).ToArray();
                if (ids.Length == 0) break;
                var result = await (await client.PostAsJsonAsync($"/api/moderation/campaigns/{c}/decisions", new { entryIds = ids, action = "approve" })).Json();
                foreach (var r in result.GetProperty("results").EnumerateArray())
                    if (r.GetProperty("ok").GetBoolean()) decided.Add(r.GetProperty("entryId").GetString()!);
            }
        }));
        var drain = sw.Elapsed;

        Assert.Equal(items, decided.Count);
        Assert.Equal(items, decided.Distinct().Count());
        var sla = await (await app.As("marketer").GetAsync($"/api/moderation/campaigns/{c}/sla")).Json();
        Assert.Equal(0, sla.GetProperty("depth").GetInt32());
        Assert.Equal(items, sla.GetProperty("humanDecisions").GetInt32());

        var sorted = claimTimes.Order().ToList();
        output.WriteLine($"enqueue {items} items (16 concurrent): {enqueue.TotalSeconds:F2} s = {items / enqueue.TotalSeconds:F0} items/s");
        output.WriteLine($"4 moderators, claim {batch} + bulk approve: {items} decisions in {drain.TotalSeconds:F2} s = {items / drain.TotalSeconds:F0} decisions/s");
        output.WriteLine($"claim latency over {sorted.Count} claims: median {sorted[sorted.Count / 2]:F0} ms, max {sorted[^1]:F0} ms");
    }
}
