using System.Diagnostics;
using System.Net.Http.Json;
using Campaigns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Campaigns.Tests.Episodes;

/// <summary>
/// Prints what a tick costs on Azurite (no timed assertions): a full series due in the same minute, and a
/// catch-up tick over three days of empty hours. Run with: dotnet test --filter "FullyQualifiedName~SchedulerFigures"
/// --logger "console;verbosity=detailed".
/// </summary>
public sealed class SchedulerFigures(ITestOutputHelper output)
{
    [Fact]
    public async Task A_full_series_due_in_one_minute_is_published_once_and_an_empty_catch_up_is_cheap()
    {
        var start = new DateTimeOffset(2027, 9, 1, 8, 0, 0, TimeSpan.Zero);
        await using var kit = await EpisodesKit.StartAsync(start);
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        var times = Enumerable.Range(0, 96).Select(i => $"2027-09-01T19:{i / 60:00}:{i % 60:00}").ToArray();
        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "Burst", times });
        var created = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async w =>
        {
            for (var i = w; i < 96; i += 4)
            {
                var r = await marketer.PostAsJsonAsync($"/api/campaigns/{c}/series/{s}/episodes",
                    new { content = new Dictionary<string, object> { ["fr"] = new { title = $"E{i}" } }, at = times[i] });
                Assert.Equal(201, (int)r.StatusCode);
                var id = (await r.Json()).GetProperty("id").GetString();
                Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/episodes/{id}/schedule", null)).StatusCode);
            }
        }));
        output.WriteLine($"create + schedule 96 episodes over HTTP (4 concurrent clients): {created.ElapsedMilliseconds} ms");

        var tick = Stopwatch.StartNew();
        var report = await kit.Tick(new DateTimeOffset(2027, 9, 1, 17, 2, 0, TimeSpan.Zero));
        output.WriteLine($"one tick publishing {report.Published} due episodes: {tick.ElapsedMilliseconds} ms");
        Assert.Equal(96, report.Published);
        Assert.Equal(96, (await EpisodesKit.FeedAsync(kit.App.Client, c)).Count);

        var idle = Stopwatch.StartNew();
        var later = await kit.Tick(new DateTimeOffset(2027, 9, 4, 17, 2, 0, TimeSpan.Zero));
        output.WriteLine($"catch-up tick over 72 empty hours: {idle.ElapsedMilliseconds} ms");
        Assert.Equal(0, later.Published);
        var steady = Stopwatch.StartNew();
        await kit.Tick(new DateTimeOffset(2027, 9, 4, 17, 3, 0, TimeSpan.Zero));
        output.WriteLine($"steady-state tick (cursor at the current hour, nothing due): {steady.ElapsedMilliseconds} ms");
    }
}
