using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Voting;

namespace Campaigns.Tests.Voting;

/// <summary>Every vote answered with 202 is counted exactly once: redelivery, crashes between steps, throttling.</summary>
public sealed class ExactlyOnceTests
{
    [Fact]
    public async Task A_redelivered_queue_message_changes_nothing()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        var now = DateTimeOffset.UtcNow;
        var shards = (await app.Service<BallotStore>().GetAsync(id, default))!.Value.Ballot.Find("r1")!.Shards;
        var items = Enumerable.Range(0, 40).Select(i => new VoteItem($"v{i:D3}", id, "r1", $"fan-{i}", now, VoteRules.Shard($"fan-{i}", shards),
            new() { ["colour"] = i % 3 == 0 ? "red" : "blue" })).ToList();
        items.Add(new VoteItem("x-refused-1", id, "r1", "fan-0", now, VoteRules.Shard("fan-0", shards), new() { ["colour"] = "green" }, RefusalReasons.RateLimited));
        var message = JsonSerializer.Serialize(new VoteBatch("batch-1", items), JsonDefaults.Options);
        var invoker = app.Service<FunctionInvoker>();
        var function = app.Service<FunctionCatalog>().Find(VotingApi.CounterFunction)!;

        // The host's shape (message JSON-encoded as a string), delivered twice, then a third time concurrently with itself.
        var payload = FunctionInvoker.QueuePayload(function, message, "m1", 1, now, now.AddDays(7), "pop");
        Assert.True((await invoker.InvokeAsync(VotingApi.CounterFunction, payload, null, default)).Succeeded);
        Assert.True((await invoker.InvokeAsync(VotingApi.CounterFunction, payload, null, default)).Succeeded);
        var again = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => invoker.InvokeAsync(VotingApi.CounterFunction, payload, null, default)));
        Assert.All(again, r => Assert.True(r.Succeeded));

        var tally = await VotingKit.TallyAsync(app.As("owner"), id);
        Assert.Equal(40, tally.GetProperty("votesCounted").GetInt64());
        Assert.Equal(14, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(26, VotingKit.Count(tally, "colour", "blue"));
        Assert.Equal(1, VotingKit.Refused(tally, "rate_limited"));

        // A ballot round keeps every count of a shard in one row, so each transaction rewrites one counter entity.
        var table = app.Service<StorageClients>().Table(VoteCounter.TableName);
        var counterRows = new List<string>();
        for (var shard = 0; shard < shards; shard++)
        {
            var pk = VoteCounter.PartitionKey(id, "r1", shard);
            await foreach (var e in table.QueryAsync<Azure.Data.Tables.TableEntity>($"PartitionKey eq '{pk}' and RowKey ge 'n|' and RowKey lt 'n}}'"))
                counterRows.Add(e.RowKey);
        }
        Assert.NotEmpty(counterRows);
        Assert.All(counterRows, r => Assert.Equal(VoteCounter.PackedRow, r));
    }

    [Fact]
    public async Task Crash_after_a_partial_commit_and_throttled_sends_still_count_every_accepted_vote_exactly_once()
    {
        var faults = new VotingFaults();
        var crashes = 0;
        var throttles = 0;
        string? target = null;
        // The counter "dies" right after its first committed transaction for this campaign (the rest of that message is
        // not applied, the message is not deleted); the queue delivers it again and the counter finishes the job.
        faults.AfterCommit = pk =>
        {
            if (target is not null && pk.StartsWith(target, StringComparison.Ordinal) && Interlocked.Increment(ref crashes) == 1)
                throw new InvalidOperationException("simulated crash between counter steps");
            return Task.CompletedTask;
        };
        // Storage throttles the first two send attempts of every batch: the accept path backs off and retries.
        faults.BeforeSend = attempt =>
        {
            if (target is not null && attempt <= 2)
            {
                Interlocked.Increment(ref throttles);
                throw new RequestFailedException(503, "Server busy (simulated)");
            }
            return Task.CompletedTask;
        };
        await using var app = await TestApp.StartAsync(b => b.Services.AddSingleton(faults), VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(mode: "lastWins"));
        target = id + "|";

        var colours = new[] { "red", "blue", "green" };
        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            app.As("fan", $"crash-fan-{i}").PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes",
                VotingKit.Choices(("colour", colours[i % 3]), ("wheels", i % 2 == 0 ? "sport" : "classic")))));
        Assert.All(responses, r => Assert.Equal(202, (int)r.StatusCode));

        var tally = await VotingKit.SettledAsync(app, id, 60);
        Assert.True(crashes >= 1, "the simulated crash did not happen");
        Assert.True(throttles >= 2);
        Assert.Equal(20, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(20, VotingKit.Count(tally, "colour", "blue"));
        Assert.Equal(20, VotingKit.Count(tally, "colour", "green"));
        Assert.Equal(30, VotingKit.Count(tally, "wheels", "sport"));
        Assert.Equal(30, VotingKit.Count(tally, "wheels", "classic"));
        Assert.Equal(0, VotingKit.Refused(tally, "duplicate"));
    }

    [Fact]
    public async Task Last_vote_wins_moves_counts_exactly()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(mode: "lastWins"));
        var a = app.As("fan", "lw-a");
        var b = app.As("fan", "lw-b");
        Assert.Equal(202, (int)(await a.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red"), ("wheels", "sport")))).StatusCode);
        Assert.Equal(202, (int)(await b.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).StatusCode);
        await VotingKit.WaitAsync(app, id, t => VotingKit.Count(t, "colour", "red") == 2);

        Assert.Equal(202, (int)(await a.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "green")))).StatusCode);
        var t = await VotingKit.WaitAsync(app, id, t => VotingKit.Count(t, "colour", "green") == 1);
        Assert.Equal(1, VotingKit.Count(t, "colour", "red"));
        Assert.Equal(1, VotingKit.Count(t, "wheels", "sport")); // untouched category keeps its count
        Assert.Equal(2, t.GetProperty("votesCounted").GetInt64());
        var mine = await (await a.GetAsync($"/api/campaigns/{id}/rounds/r1/votes/me")).Json();
        Assert.Equal("green", mine.GetProperty("choices").GetProperty("colour").GetString());
    }

    [Fact]
    public async Task Admin_invalidates_a_fan_and_restores_them_exactly_with_the_reason_visible()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        foreach (var (fan, colour) in new[] { ("inv-1", "red"), ("inv-2", "red"), ("inv-3", "blue") })
            Assert.Equal(202, (int)(await app.As("fan", fan).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", colour), ("wheels", "sport")))).StatusCode);
        await VotingKit.SettledAsync(app, id, 3);
        var admin = app.As("owner");

        var inv = await (await admin.PostAsJsonAsync($"/api/campaigns/{id}/fans/inv-2/invalidate", new { note = "same device as 40 other accounts" })).Json();
        Assert.Equal(1, inv.GetProperty("invalidated").GetInt32());
        Assert.Equal(0, (await (await admin.PostAsJsonAsync($"/api/campaigns/{id}/fans/inv-2/invalidate", new { note = "again" })).Json()).GetProperty("invalidated").GetInt32());
        var t = await VotingKit.TallyAsync(admin, id);
        Assert.Equal(1, VotingKit.Count(t, "colour", "red"));
        Assert.Equal(2, VotingKit.Count(t, "wheels", "sport"));
        Assert.Equal(2, t.GetProperty("votesCounted").GetInt64());
        Assert.Equal(1, VotingKit.Refused(t, "invalidated"));
        var refusals = await (await admin.GetAsync($"/api/campaigns/{id}/rounds/r1/refusals?reason=invalidated")).Json();
        var item = Assert.Single(refusals.GetProperty("items").EnumerateArray());
        Assert.Equal("inv-2", item.GetProperty("fan").GetString());
        Assert.Equal("same device as 40 other accounts", item.GetProperty("note").GetString());
        await (await app.As("marketer").PostAsJsonAsync($"/api/campaigns/{id}/fans/inv-2/invalidate", new { note = "x" })).Problem(403, "forbidden");

        Assert.Equal(1, (await (await admin.PostAsync($"/api/campaigns/{id}/fans/inv-2/restore", null)).Json()).GetProperty("restored").GetInt32());
        t = await VotingKit.TallyAsync(admin, id);
        Assert.Equal(2, VotingKit.Count(t, "colour", "red"));
        Assert.Equal(3, VotingKit.Count(t, "wheels", "sport"));
        Assert.Equal(3, t.GetProperty("votesCounted").GetInt64());
        Assert.Equal(0, VotingKit.Refused(t, "invalidated"));

        var voters = new List<string>();
        await foreach (var v in app.Service<IVoterDirectory>().CountedVotersAsync(id, default)) voters.Add(v);
        Assert.Equal(["inv-1", "inv-2", "inv-3"], voters.Order());
    }
}
