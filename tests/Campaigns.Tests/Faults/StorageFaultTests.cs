using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Voting;
using Xunit.Abstractions;

namespace Campaigns.Tests.Faults;

/// <summary>
/// The real program with its storage behind a <see cref="FaultProxy"/>: 503s, slow requests and connections dropped
/// before and after Azurite applied them. Fans retry what failed the way a microsite does (same Idempotency-Key), and
/// once the faults stop every vote answered 202 is counted exactly once.
/// </summary>
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    /// <summary>FAULT_SEED reproduces a run; otherwise a fresh seed, printed in every failure message.</summary>
    public static int NewSeed() => int.TryParse(Environment.GetEnvironmentVariable("FAULT_SEED"), out var s) ? s : Random.Shared.Next();

    private sealed record Outcome(int Status, string? Code, int Attempts, int FailedAttempts);

    [Fact]
    public async Task Votes_sent_through_failing_storage_are_each_counted_exactly_once_and_refusals_are_accounted_for()
    {
        const int fans = 80;
        await using var proxy = new FaultProxy(Azurite.Instance, NewSeed(), delay: TimeSpan.FromSeconds(3));
        var settings = VotingKit.Settings();
        settings["AzureWebJobsStorage"] = proxy.ConnectionString;
        // A message whose delete failed under faults comes back in seconds, not minutes.
        settings["Hosting:QueueLeaseSeconds"] = "5";
        await using var app = await TestApp.StartAsync(settings: settings);
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot()); // first vote is final: a fan's second vote is refused as a duplicate
        var colours = new[] { "red", "blue", "green" };

        // A microsite gives up on a request after 2 s (shorter than the proxy's delay) and sends it again, same key.
        async Task<Outcome> VoteAsync(string fan, string key, string colour, int maxAttempts)
        {
            using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.Token("fan", fan));
            var failed = 0;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/rounds/r1/votes")
                    {
                        Content = JsonContent.Create(VotingKit.Choices(("colour", colour), ("wheels", "sport"))),
                    };
                    request.Headers.Add("Idempotency-Key", key);
                    using var response = await http.SendAsync(request);
                    var status = (int)response.StatusCode;
                    if (status < 500)
                    {
                        var code = status == 202 ? null : (await response.Json()).GetProperty("code").GetString();
                        return new Outcome(status, code, attempt, failed);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                failed++;
                if (attempt >= maxAttempts) return new Outcome(0, null, attempt, failed);
                await Task.Delay(100);
            }
        }

        var outcomes = new ConcurrentDictionary<string, Outcome>();
        async Task FanAsync(int i, int maxAttempts)
        {
            var fan = $"fault-fan-{i}";
            if (!outcomes.TryGetValue(fan, out var first) || first.Status == 0)
                outcomes[fan] = first = await VoteAsync(fan, $"first-{i}", colours[i % 3], maxAttempts);
            // Every fourth fan votes again with a new key once the first vote is in: accepted, then refused by the counter.
            if (i % 4 == 0 && first.Status == 202 && (!outcomes.TryGetValue(fan + "/again", out var again) || again.Status == 0))
                outcomes[fan + "/again"] = await VoteAsync(fan, $"again-{i}", colours[i % 3], maxAttempts);
        }

        proxy.Rates = new FaultRates(ServerBusy: 0.15, Delay: 0.05, DropBeforeForward: 0.1, DropAfterForward: 0.15);
        // Fans arrive spread over two seconds, so their votes go to storage in many group commits, not a few.
        await Task.WhenAll(Enumerable.Range(0, fans).Select(async i => { await Task.Delay(i * 25); await FanAsync(i, maxAttempts: 4); }));
        // Faults stop; fans left without an answer send their votes again later.
        proxy.Rates = FaultRates.None;
        await Task.WhenAll(Enumerable.Range(0, fans).Select(i => FanAsync(i, maxAttempts: 20)));
        var context = proxy.Describe() + "; fans' failed attempts: " + outcomes.Values.Sum(o => o.FailedAttempts);

        output.WriteLine(context);
        Assert.True(proxy.Injected > 0, context);
        Assert.All(outcomes, o => Assert.True(o.Value.Status == 202, $"{o.Key}: {o.Value} ({context})"));
        var accepted = outcomes.Keys.Where(k => !k.EndsWith("/again", StringComparison.Ordinal)).ToList();
        var acceptedAgain = outcomes.Keys.Count(k => k.EndsWith("/again", StringComparison.Ordinal));
        Assert.Equal(fans, accepted.Count);
        Assert.Equal(fans / 4, acceptedAgain);

        // Each accepted first vote counts once (a retry of a write that happened is the same vote); each accepted second
        // vote is a recorded duplicate refusal, however many times its request reached storage.
        var admin = app.As("owner");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement tally;
        while (true)
        {
            tally = await VotingKit.TallyAsync(admin, id);
            if ((tally.GetProperty("votesCounted").GetInt64() >= fans && VotingKit.Refused(tally, "duplicate") >= acceptedAgain)
                || DateTime.UtcNow > deadline) break;
            await Task.Delay(200);
        }
        // Anything redelivered late would still be arriving: let the queue settle, then read again.
        await WaitForEmptyQueueAsync(app, settings["Voting:Queue"]!);
        tally = await VotingKit.TallyAsync(admin, id);
        Assert.True(fans == tally.GetProperty("votesCounted").GetInt64(), $"votesCounted {tally.GetProperty("votesCounted")} ≠ {fans} accepted ({context}) {tally}");
        Assert.True(acceptedAgain == VotingKit.Refused(tally, "duplicate"), $"duplicates {VotingKit.Refused(tally, "duplicate")} ≠ {acceptedAgain} ({context})");
        foreach (var (colour, n) in colours.Select((c, k) => (c, Enumerable.Range(0, fans).Count(i => i % 3 == k))))
            Assert.True(n == VotingKit.Count(tally, "colour", colour), $"{colour}: {VotingKit.Count(tally, "colour", colour)} ≠ {n} ({context})");
        Assert.Equal(fans, VotingKit.Count(tally, "wheels", "sport"));
        Assert.Equal(0, await QueueLengthAsync(app, settings["Voting:Queue"]! + "-poison"));
    }

    internal static async Task<int> QueueLengthAsync(TestApp app, string queue)
    {
        var client = new Azure.Storage.Queues.QueueClient(Azurite.Instance.ConnectionString, queue);
        if (!await client.ExistsAsync()) return 0;
        return (await client.GetPropertiesAsync()).Value.ApproximateMessagesCount;
    }

    internal static async Task WaitForEmptyQueueAsync(TestApp app, string queue)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await QueueLengthAsync(app, queue) > 0 && DateTime.UtcNow < deadline) await Task.Delay(200);
    }
}
