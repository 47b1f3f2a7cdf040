using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Voting;
using Xunit.Abstractions;

namespace Campaigns.Tests.Faults;

/// <summary>
/// The service as separate processes killed hard (SIGKILL) while work is visibly under way, not at a chosen line of
/// code: the test watches storage until some but not all of the work is done, kills, restarts, and checks that the
/// restarted process finishes it with nothing done twice and nothing lost.
/// </summary>
public sealed class ProcessKillFaultTests(ITestOutputHelper output)
{
    private const string Workspace = "process-kill-fault-tests";

    /// <summary>Settings of every process of one test: messages held by a killed process come back after 2 s.</summary>
    private static Dictionary<string, string?> Settings()
    {
        var settings = TestApp.Settings(Azurite.Instance);
        foreach (var (k, v) in VotingKit.Settings()) settings[k] = v;
        settings["Hosting:QueueLeaseSeconds"] = "2";
        settings["Demo:Seed"] = "false";
        return settings;
    }

    [Fact]
    public async Task A_process_killed_while_counting_a_backlog_leaves_a_second_process_to_count_every_vote_exactly_once()
    {
        const int votes = 600; // a multiple of the three colours; smaller backlogs were at times nearly drained before the kill
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var settings = Settings();
        var id = VotingKit.NewId();
        var now = DateTimeOffset.UtcNow;
        var colours = new[] { "red", "blue", "green" };

        // A backlog: votes accepted by a process that does not count.
        await using (var accepting = await ServiceProcess.StartAsync(settings, standalone: false, Workspace))
        {
            output.WriteLine($"started after {clock.Elapsed}");
            var marketer = accepting.As("marketer", "m-1");
            var created = await marketer.PostAsJsonAsync("/api/campaigns", new
            {
                id, workspaceId = Workspace, name = "Kill while counting", brand = "Cars", timeZone = "Europe/Berlin",
                locales = new[] { "en" }, features = new[] { "voting" },
                windows = new { publish = VotingKit.Window(now.AddDays(-1), now.AddDays(5)), voting = VotingKit.Window(now.AddHours(-1), now.AddDays(2)) },
            });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
            Assert.True((await marketer.PutAsJsonAsync($"/api/campaigns/{id}/ballot", VotingKit.Ballot())).IsSuccessStatusCode);
            // Eight at a time, so the backlog is many small queue messages (a long drain) rather than a few large ones.
            var results = new System.Collections.Concurrent.ConcurrentBag<int>();
            await Parallel.ForEachAsync(Enumerable.Range(0, votes), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/rounds/r1/votes")
                {
                    Content = JsonContent.Create(VotingKit.Choices(("colour", colours[i % 3]), ("wheels", "sport"))),
                };
                request.Headers.Authorization = new("Bearer", TestApp.Token("fan", $"drain-fan-{i}"));
                results.Add((int)(await accepting.Http.SendAsync(request, ct)).StatusCode);
            });
            Assert.All(results, s => Assert.Equal(202, s));
        }
        output.WriteLine($"backlog accepted after {clock.Elapsed}");

        // A counting process, killed as soon as it has finished (and deleted) its first messages: the messages it holds
        // are partly counted, the rest of the backlog untouched. The queue is watched from here, not through the process.
        var queue = new Azure.Storage.Queues.QueueClient(Azurite.Instance.ConnectionString, settings["Voting:Queue"]!);
        var backlog = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
        int left;
        await using (var counting = await ServiceProcess.StartAsync(settings, standalone: true, Workspace))
        {
            while ((left = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount) == backlog) await Task.Delay(10);
            counting.Kill();
        }
        output.WriteLine($"killed with {left} of {backlog} messages left after {clock.Elapsed}");
        Assert.True(left > 0, $"the backlog was drained before the kill ({backlog} messages); the test needs a larger one");

        // A fresh process finishes: the killed one's leased messages come back after the short lease.
        await using var second = await ServiceProcess.StartAsync(settings, standalone: true, Workspace);
        var owner = second.As("owner", "a-1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement tally;
        while (true)
        {
            tally = await VotingKit.TallyAsync(owner, id);
            if (tally.GetProperty("votesCounted").GetInt64() >= votes || DateTime.UtcNow > deadline) break;
            await Task.Delay(200);
        }
        output.WriteLine($"counted after {clock.Elapsed}");
        await WaitForEmptyAsync(settings["Voting:Queue"]!);
        output.WriteLine($"queue empty after {clock.Elapsed}");
        tally = await VotingKit.TallyAsync(owner, id);
        Assert.Equal(votes, tally.GetProperty("votesCounted").GetInt64());
        foreach (var colour in colours) Assert.Equal(votes / 3, VotingKit.Count(tally, "colour", colour));
        Assert.Equal(votes, VotingKit.Count(tally, "wheels", "sport"));
        Assert.Equal(0, VotingKit.Refused(tally, "duplicate"));
    }

    private static async Task WaitForEmptyAsync(string queue)
    {
        var client = new Azure.Storage.Queues.QueueClient(Azurite.Instance.ConnectionString, queue);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0 && DateTime.UtcNow < deadline) await Task.Delay(200);
    }
}
