using System.Net.Http.Json;
using Campaigns.DataRights;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Voting;

namespace Campaigns.Tests.DataRights;

public sealed class KeptRecordsTests
{
    [Fact]
    public async Task A_fraud_decision_and_a_won_prize_are_kept_with_their_reason_until_their_date_then_the_timer_removes_them()
    {
        var (app, time) = await DataRightsKit.StartAsync();
        await using var _ = app;
        var now = time.GetUtcNow();
        var fanId = "kept-fan-" + Guid.NewGuid().ToString("N")[..8];
        var fan = app.As("fan", fanId);
        var owner = app.As("owner");
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync("/api/me/profile", new { displayName = "Kept", country = "DE", birthDate = "1990-01-01" })).StatusCode);

        // Campaign A: the fan is the only voter, so the draw makes them its winner.
        var won = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddHours(-1), now.AddDays(1)));
        await VotingKit.PutBallotAsync(app, won, VotingKit.Ballot());
        // Campaign B: the fan's vote is invalidated for fraud.
        var fraud = await VotingKit.CampaignAsync(app, now, voting: VotingKit.Window(now.AddHours(-1), now.AddDays(1)));
        await VotingKit.PutBallotAsync(app, fraud, VotingKit.Ballot());
        foreach (var c in new[] { won, fraud })
        {
            Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{c}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).StatusCode);
            await VotingKit.SettledAsync(app, c, 1);
        }
        Assert.Equal(200, (int)(await owner.PostAsJsonAsync($"/api/campaigns/{fraud}/fans/{fanId}/invalidate", new { note = "bought votes" })).StatusCode);
        var fraudTally = (await VotingKit.TallyAsync(owner, fraud)).ToString();
        var marketer = app.As("marketer");
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{won}/draws/prize", new { method = "random", pool = "voters", winners = 1, filters = new { consent = false, ageConfirmed = false } })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{won}/draws/prize/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromDays(2));
        var run = await marketer.PostAsync($"/api/campaigns/{won}/draws/prize/run", null);
        Assert.True(run.IsSuccessStatusCode, await run.Content.ReadAsStringAsync());

        Assert.Equal(202, (int)(await fan.PostAsync("/api/me/erasure", null)).StatusCode);
        await DataRightsKit.WaitErasedAsync(() => fan.GetAsync("/api/me/erasure"), run: 1);

        var kept = new List<KeptRecord>();
        await foreach (var k in app.Service<DataRightsStore>().KeptAsync(null, CancellationToken.None))
            if (k.CampaignId == won || k.CampaignId == fraud) kept.Add(k);
        Assert.Equal(2, kept.Count);
        var prize = kept.Single(k => k.Reason == KeptRecord.PrizeFulfilment);
        Assert.Equal(won, prize.CampaignId);
        Assert.Equal(time.GetUtcNow().AddDays(1095), prize.KeepUntil);
        var fraudKept = kept.Single(k => k.Reason == KeptRecord.FraudDecision);
        Assert.Equal(fraud, fraudKept.CampaignId);
        Assert.Equal(time.GetUtcNow().AddDays(365), fraudKept.KeepUntil);
        // The fan id is still where the kept records say, and nowhere else.
        Assert.Empty(await StorageScan.FindAsync(app, fanId));
        var slot = Assert.Single((await app.Service<global::Campaigns.Winners.DrawStore>().GetAsync(won, "prize", CancellationToken.None))!.Value.State.Slots!);
        Assert.Equal(fanId, slot.FanId);

        // Before its date the timer keeps the fraud decision; after it, the row goes and the tally does not move.
        time.Advance(TimeSpan.FromDays(364));
        Assert.Equal(200, (int)(await app.InvokeAsync(DataRightsApi.KeptExpiryFunction, "{}")).StatusCode);
        Assert.NotNull(await app.Service<global::Campaigns.Voting.VoteCounter>().ReadFanVoteAsync(fraud,
            (await app.Service<global::Campaigns.Voting.BallotStore>().GetAsync(fraud, CancellationToken.None))!.Value.Ballot.Rounds[0], fanId));
        time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(200, (int)(await app.InvokeAsync(DataRightsApi.KeptExpiryFunction, "{}")).StatusCode);
        Assert.Null(await app.Service<global::Campaigns.Voting.VoteCounter>().ReadFanVoteAsync(fraud,
            (await app.Service<global::Campaigns.Voting.BallotStore>().GetAsync(fraud, CancellationToken.None))!.Value.Ballot.Rounds[0], fanId));
        Assert.Equal(fraudTally, (await VotingKit.TallyAsync(owner, fraud)).ToString());
        Assert.Equal(fanId, (await app.Service<global::Campaigns.Winners.DrawStore>().GetAsync(won, "prize", CancellationToken.None))!.Value.State.Slots![0].FanId);

        // After the prize period the winner's slot loses the fan id; the published record does not change.
        var record = await app.Client.GetByteArrayAsync($"/api/public/campaigns/{won}/draws/prize/record");
        time.Advance(TimeSpan.FromDays(800));
        Assert.Equal(200, (int)(await app.InvokeAsync(DataRightsApi.KeptExpiryFunction, "{}")).StatusCode);
        var after = (await app.Service<global::Campaigns.Winners.DrawStore>().GetAsync(won, "prize", CancellationToken.None))!.Value.State.Slots![0];
        Assert.Equal("", after.FanId);
        Assert.Equal(slot.Pid, after.Pid);
        Assert.Equal(record, await app.Client.GetByteArrayAsync($"/api/public/campaigns/{won}/draws/prize/record"));
        Assert.Empty(await StorageScan.FindAsync(app, fanId));
        await foreach (var k in app.Service<DataRightsStore>().KeptAsync(null, CancellationToken.None))
            Assert.False(k.CampaignId == won || k.CampaignId == fraud, "A kept record outlived its date: " + k.Id);
    }
}
