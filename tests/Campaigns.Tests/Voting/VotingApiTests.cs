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
        var refusals = await (await app.As("admin").GetAsync($"/api/campaigns/{id}/rounds/r1/refusals")).Json();
        Assert.Equal(1, refusals.GetProperty("counts").GetProperty("duplicate").GetInt64());
        var item = Assert.Single(refusals.GetProperty("items").EnumerateArray());
        Assert.Equal("duplicate", item.GetProperty("reason").GetString());
        Assert.Equal("blue", item.GetProperty("choices").GetProperty("colour").GetString());
    }
}
