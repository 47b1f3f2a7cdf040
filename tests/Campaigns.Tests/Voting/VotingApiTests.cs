using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;
using Campaigns.Voting;

namespace Campaigns.Tests.Voting;

public sealed class VotingApiTests
{
    [Fact]
    public async Task Same_vote_sent_three_times_concurrently_is_counted_once_and_a_changed_vote_under_first_is_final_is_a_kept_duplicate()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        var fan = app.As("fan", "fan-" + Guid.NewGuid().ToString("N")[..8]);

        var sends = Enumerable.Range(0, 3).Select(_ =>
        {
            var req = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/rounds/r1/votes")
            { Content = JsonContent.Create(VotingKit.Choices(("colour", "red"), ("wheels", "sport"))) };
            req.Headers.Add("Idempotency-Key", "k-1");
            return fan.SendAsync(req);
        });
        var responses = await Task.WhenAll(sends);
        var receipts = new List<string>();
        foreach (var r in responses)
        {
            Assert.True(202 == (int)r.StatusCode, await r.Content.ReadAsStringAsync());
            receipts.Add((await r.Json()).GetProperty("voteId").GetString()!);
        }
        Assert.Single(receipts.Distinct());

        // A different ballot from the same fan: first vote is final, so it is refused as a duplicate and kept.
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "blue")))).StatusCode);

        var tally = await VotingKit.WaitAsync(app, id, t => VotingKit.Refused(t, "duplicate") == 1 && t.GetProperty("votesCounted").GetInt64() == 1);
        Assert.Equal(1, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(0, VotingKit.Count(tally, "colour", "blue"));
        Assert.Equal(1, VotingKit.Count(tally, "wheels", "sport"));

        var mine = await (await fan.GetAsync($"/api/campaigns/{id}/rounds/r1/votes/me")).Json();
        Assert.Equal(receipts[0], mine.GetProperty("voteId").GetString());
        var refusals = await (await app.As("owner").GetAsync($"/api/campaigns/{id}/rounds/r1/refusals")).Json();
        Assert.Equal(1, refusals.GetProperty("counts").GetProperty("duplicate").GetInt64());
        var item = Assert.Single(refusals.GetProperty("items").EnumerateArray());
        Assert.Equal("duplicate", item.GetProperty("reason").GetString());
        Assert.Equal("blue", item.GetProperty("choices").GetProperty("colour").GetString());
    }

    [Fact]
    public async Task Votes_cast_per_fan_feed_the_engaged_fan_ranking_and_leave_out_invalidated_fans()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var now = DateTimeOffset.UtcNow;
        var id = await VotingKit.CampaignAsync(app, now);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        var fans = new[] { "fan-" + Guid.NewGuid().ToString("N")[..8], "fan-" + Guid.NewGuid().ToString("N")[..8] };
        foreach (var f in fans)
            Assert.Equal(202, (int)(await app.As("fan", f).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red")))).StatusCode);
        await VotingKit.WaitAsync(app, id, t => t.GetProperty("votesCounted").GetInt64() == 2);

        var counts = app.Service<global::Campaigns.Moderation.IFanVoteCounts>();
        var cast = await counts.VotesCastAsync(id, now.AddMinutes(-5), now.AddMinutes(5), CancellationToken.None);
        Assert.Equal(1, cast[fans[0]]);
        Assert.Equal(1, cast[fans[1]]);
        Assert.Empty(await counts.VotesCastAsync(id, now.AddMinutes(5), now.AddMinutes(10), CancellationToken.None));

        await app.Service<global::Campaigns.Platform.IVoteInvalidation>().InvalidateFanAsync(id, fans[0], "test", "admin-1", CancellationToken.None);
        cast = await counts.VotesCastAsync(id, now.AddMinutes(-5), now.AddMinutes(5), CancellationToken.None);
        Assert.False(cast.ContainsKey(fans[0]));
        Assert.Equal(1, cast[fans[1]]);
    }
}
