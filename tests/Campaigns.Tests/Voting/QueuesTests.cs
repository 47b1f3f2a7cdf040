using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Voting;

namespace Campaigns.Tests.Voting;

/// <summary>Nothing acknowledged is lost: invalid items are refused alone, poison messages come back.</summary>
public sealed class QueuesTests
{
    [Fact]
    public async Task An_invalid_item_is_refused_with_its_reason_and_the_rest_of_the_batch_is_counted()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        var other = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow); // no ballot (deleted, never made)
        var now = DateTimeOffset.UtcNow;
        var shards = (await app.Service<BallotStore>().GetAsync(id, default))!.Value.Ballot.Find("r1")!.Shards;
        VoteItem Vote(string vote, string campaign, string round, string fan, string colour)
            => new(vote, campaign, round, fan, now, VoteRules.Shard(fan, shards), new() { ["colour"] = colour });
        var items = new List<VoteItem>
        {
            Vote("ok-1", id, "r1", "fan-1", "red"), Vote("ok-2", id, "r1", "fan-2", "blue"),
            Vote("gone-round", id, "r9", "fan-3", "red"),            // its round was removed
            Vote("gone-option", id, "r1", "fan-4", "purple"),        // its option is not on the ballot (any more)
            Vote("no-ballot", other, "r1", "fan-5", "red"),          // its campaign has no ballot
            Vote("ok-3", id, "r1", "fan-6", "red"),
        };
        var message = JsonSerializer.Serialize(new VoteBatch("batch-invalid", items), JsonDefaults.Options);
        var function = app.Service<FunctionCatalog>().Find(VotingApi.CounterFunction)!;
        var payload = FunctionInvoker.QueuePayload(function, message, "m1", 1, now, now.AddDays(7), "pop");
        var first = await app.Service<FunctionInvoker>().InvokeAsync(VotingApi.CounterFunction, payload, null, default);
        Assert.True(first.Succeeded, "the batch failed as a whole because of its invalid items");
        Assert.True((await app.Service<FunctionInvoker>().InvokeAsync(VotingApi.CounterFunction, payload, null, default)).Succeeded);

        var owner = app.As("owner");
        var tally = await VotingKit.TallyAsync(owner, id);
        Assert.Equal(3, tally.GetProperty("votesCounted").GetInt64());
        Assert.Equal(2, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(1, VotingKit.Refused(tally, RefusalReasons.Invalid)); // once, though delivered twice
        var refusals = await (await owner.GetAsync($"/api/campaigns/{id}/rounds/r1/refusals?reason=invalid")).Json();
        var item = Assert.Single(refusals.GetProperty("items").EnumerateArray());
        Assert.Equal("gone-option", item.GetProperty("voteId").GetString());
        // Items naming no round or ballot are kept as refusal rows under the round they named (evidence, not counts).
        var table = app.Service<StorageClients>().Table(VoteCounter.TableName);
        Assert.True((await table.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(
            VoteCounter.PartitionKey(id, "r9", VoteRules.Shard("fan-3", shards)), "x|gone-round")).HasValue);
        Assert.True((await table.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(
            VoteCounter.PartitionKey(other, "r1", VoteRules.Shard("fan-5", shards)), "x|no-ballot")).HasValue);
    }

    [Fact]
    public async Task Votes_that_reached_the_poison_queue_are_redriven_and_counted_exactly_once()
    {
        var faults = new VotingFaults();
        var broken = true;
        faults.BeforeCount = _ => broken ? throw new InvalidOperationException("counter down (simulated)") : Task.CompletedTask;
        var settings = VotingKit.Settings();
        var queue = settings["Voting:Queue"]!;
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton(faults);
            b.Services.AddSingleton(new HostQueueSettings(16, 8, TimeSpan.FromMilliseconds(100), TimeSpan.Zero, 2));
        }, settings);
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());

        var colours = new[] { "red", "blue", "green" };
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            app.As("fan", $"poison-fan-{i}").PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", colours[i % 3])))));
        Assert.All(responses, r => Assert.Equal(202, (int)r.StatusCode));

        var storage = app.Service<StorageClients>();
        async Task<int> Count(string q) => (await storage.Queue(q).PeekMessagesAsync(32)).Value.Length;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await Count(queue) > 0 || await Count(queue + "-poison") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the votes never reached the poison queue");
            await Task.Delay(200);
        }
        await Task.Delay(500); // let in-flight deliveries settle into poison
        Assert.Equal(0, (await VotingKit.TallyAsync(app.As("owner"), id)).GetProperty("votesCounted").GetInt64());

        broken = false;
        var operatorClient = app.As("operator");
        Assert.Equal(404, (int)(await operatorClient.PostAsync("/api/operations/queues/not-ours/redrive", null)).StatusCode);
        Assert.Equal(403, (int)(await app.As("owner").PostAsync($"/api/operations/queues/{queue}/redrive", null)).StatusCode);
        var r = await operatorClient.PostAsync($"/api/operations/queues/{queue}/redrive", null);
        var body = await r.Json();
        Assert.True(200 == (int)r.StatusCode, body.ToString());
        Assert.True(body.GetProperty("moved").GetInt32() >= 1);

        var tally = await VotingKit.SettledAsync(app, id, 30);
        Assert.Equal(10, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(10, VotingKit.Count(tally, "colour", "blue"));
        Assert.Equal(10, VotingKit.Count(tally, "colour", "green"));
        Assert.Equal(0, await Count(queue + "-poison"));
        // Re-driving again (nothing left) moves nothing and counts nothing twice.
        Assert.Equal(0, (await (await operatorClient.PostAsync($"/api/operations/queues/{queue}/redrive", null)).Json()).GetProperty("moved").GetInt32());
        await Task.Delay(500);
        Assert.Equal(30, (await VotingKit.TallyAsync(app.As("owner"), id)).GetProperty("votesCounted").GetInt64());
    }

    [Fact]
    public async Task A_reveal_waits_for_its_own_rounds_backlog_only()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var faults = new VotingFaults();
        string? stuck = null; // a campaign whose votes the counter cannot count for now
        faults.BeforeCount = batch => stuck is { } c && batch.Items.Any(i => i.Campaign == c)
            ? throw new InvalidOperationException("counter fails for this campaign (simulated)") : Task.CompletedTask;
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddSingleton(faults);
            b.Services.AddSingleton(new HostQueueSettings(16, 8, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), 1000));
        }, VotingKit.Settings());
        var now = time.GetUtcNow();
        var closing = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddHours(-1), now.AddHours(1)));
        await VotingKit.PutBallotAsync(app, closing, VotingKit.Ballot());
        var other = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddHours(-1), now.AddDays(10)));
        await VotingKit.PutBallotAsync(app, other, VotingKit.Ballot());

        Assert.Equal(202, (int)(await app.As("fan", "own-1").PostAsJsonAsync($"/api/campaigns/{closing}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).StatusCode);
        await VotingKit.SettledAsync(app, closing, 1);
        // Its own backlog: a vote accepted but not counted yet.
        stuck = closing;
        Assert.Equal(202, (int)(await app.As("fan", "own-2").PostAsJsonAsync($"/api/campaigns/{closing}/rounds/r1/votes", VotingKit.Choices(("colour", "blue")))).StatusCode);
        time.Advance(TimeSpan.FromHours(3)); // closed (the other campaign stays open)
        var owner = app.As("owner");
        await (await owner.PostAsync($"/api/campaigns/{closing}/rounds/r1/reveal", null)).Problem(409, "tally_not_drained");

        // Another campaign's backlog in the shared queue does not hold this reveal back.
        stuck = other;
        Assert.Equal(202, (int)(await app.As("fan", "other-1").PostAsJsonAsync($"/api/campaigns/{other}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).StatusCode);
        await VotingKit.SettledAsync(app, closing, 2);
        var storage = app.Service<StorageClients>();
        Assert.True((await storage.Queue(app.Service<Microsoft.Extensions.Options.IOptions<VotingOptions>>().Value.Queue).GetPropertiesAsync()).Value.ApproximateMessagesCount > 0,
            "the other campaign's vote should still be waiting in the shared queue");
        var revealed = await owner.PostAsync($"/api/campaigns/{closing}/rounds/r1/reveal", null);
        Assert.True(200 == (int)revealed.StatusCode, await revealed.Content.ReadAsStringAsync());
        Assert.Equal(2, (await revealed.Json()).GetProperty("snapshot").GetProperty("votesCounted").GetInt64());
    }
}

public sealed class RedriveDecisionTests
{
    [Fact]
    public void Automatic_redrives_wait_longer_each_time_and_stop_after_the_last_attempt_while_an_operator_always_moves()
    {
        Assert.Equal(new RedriveDecision(true, TimeSpan.FromMinutes(1), 1), PoisonRedrive.Decide(0, false));
        Assert.Equal(new RedriveDecision(true, TimeSpan.FromMinutes(4), 2), PoisonRedrive.Decide(1, false));
        Assert.Equal(new RedriveDecision(true, TimeSpan.FromMinutes(64), 4), PoisonRedrive.Decide(3, false));
        Assert.False(PoisonRedrive.Decide(4, false).Move);
        Assert.Equal(new RedriveDecision(true, TimeSpan.Zero, 4), PoisonRedrive.Decide(4, true));
    }

    [Fact]
    public void An_item_whose_round_or_option_went_away_is_invalid_and_a_valid_one_is_not()
    {
        var round = new Round("r1", [], RoundKind.Ballot, [new CategoryDef("colour", [], [new OptionDef("red", [])])], null, null, null, null, 4);
        var ballot = new Ballot("c", VoteMode.FirstIsFinal, TallyVisibility.Admins, false, [round], DateTimeOffset.UnixEpoch);
        VoteItem Item(string round, string option) => new("v", "c", round, "f", DateTimeOffset.UnixEpoch, 0, new() { ["colour"] = option });
        Assert.Null(VoteRules.Invalid(Item("r1", "red"), ballot, round));
        Assert.Contains("purple", VoteRules.Invalid(Item("r1", "purple"), ballot, round));
        Assert.Contains("r9", VoteRules.Invalid(Item("r9", "red"), ballot, null));
        Assert.Contains("no ballot", VoteRules.Invalid(Item("r1", "red"), null, null));
    }
}
