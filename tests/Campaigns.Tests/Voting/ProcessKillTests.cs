using System.Net.Http.Headers;
using System.Net.Http.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Voting;

/// <summary>
/// The service as a separate process, killed hard (SIGKILL) after answering 202s and restarted: the votes it accepted are
/// durable and a fresh process counts each exactly once. (A crash in the middle of a counter batch is covered in-process
/// by <see cref="ExactlyOnceTests"/>, and across processes by Faults.ProcessKillFaultTests with a short queue lease.)
/// </summary>
public sealed class ProcessKillTests
{
    private const string Workspace = "process-kill-tests";

    [Fact]
    public async Task Votes_accepted_by_a_process_killed_before_counting_are_counted_exactly_once_after_a_restart()
    {
        var settings = TestApp.Settings(Azurite.Instance);
        foreach (var (k, v) in VotingKit.Settings()) settings[k] = v;
        var id = VotingKit.NewId();
        var now = DateTimeOffset.UtcNow;
        var colours = new[] { "red", "blue", "green" };

        await using (var first = await ServiceProcess.StartAsync(settings, standalone: false, Workspace))
        {
            var marketer = first.As("marketer", "m-1");
            var created = await marketer.PostAsJsonAsync("/api/campaigns", new
            {
                id,
                workspaceId = Workspace,
                name = "Kill test",
                brand = "Cars",
                timeZone = "Europe/Berlin",
                locales = new[] { "en" },
                features = new[] { "voting" },
                windows = new { publish = VotingKit.Window(now.AddDays(-1), now.AddDays(5)), voting = VotingKit.Window(now.AddHours(-1), now.AddDays(2)) },
            });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
            Assert.True((await marketer.PutAsJsonAsync($"/api/campaigns/{id}/ballot", VotingKit.Ballot())).IsSuccessStatusCode);

            var responses = await Task.WhenAll(Enumerable.Range(0, 150).Select(i => first.As("fan", $"kill-fan-{i}")
                .PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", colours[i % 3]), ("wheels", "sport")))));
            Assert.All(responses, r => Assert.Equal(202, (int)r.StatusCode));
            // Nothing is counted yet: the accepted votes exist only in the queue when the process dies.
            Assert.Equal(0, (await VotingKit.TallyAsync(first.As("owner", "a-1"), id)).GetProperty("votesCounted").GetInt64());
            first.Kill();
        }

        await using var second = await ServiceProcess.StartAsync(settings, standalone: true, Workspace);
        var admin = second.As("owner", "a-1");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        System.Text.Json.JsonElement tally;
        while (true)
        {
            tally = await VotingKit.TallyAsync(admin, id);
            if (tally.GetProperty("votesCounted").GetInt64() >= 150 || DateTime.UtcNow > deadline) break;
            await Task.Delay(200);
        }
        Assert.Equal(150, tally.GetProperty("votesCounted").GetInt64());
        Assert.Equal(50, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(50, VotingKit.Count(tally, "colour", "blue"));
        Assert.Equal(50, VotingKit.Count(tally, "colour", "green"));
        Assert.Equal(150, VotingKit.Count(tally, "wheels", "sport"));
    }
}
