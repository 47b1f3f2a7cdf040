using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Voting;

/// <summary>
/// A fraud invalidation (admin) and a moderation block (moderator) are two ledgers on a fan's votes: a vote counts only
/// while neither holds it, and each lift undoes only its own ledger.
/// </summary>
public sealed class VoteLedgerTests
{
    private static long Refused(JsonElement tally, string reason)
        => tally.GetProperty("refusals").TryGetProperty(reason, out var n) ? n.GetInt64() : 0;

    /// <summary>(votes counted, red, blue, held as invalidated, held as suspended).</summary>
    private static async Task<(long, long, long, long, long)> Tally(TestApp app, string id)
    {
        var t = await VotingKit.TallyAsync(app.As("admin"), id);
        return (t.GetProperty("votesCounted").GetInt64(), VotingKit.Count(t, "colour", "red"), VotingKit.Count(t, "colour", "blue"),
            Refused(t, "invalidated"), Refused(t, "suspended"));
    }

    [Fact]
    public async Task A_moderators_block_and_an_admins_fraud_invalidation_never_lift_each_other()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());
        foreach (var (fan, colour) in new[] { ("fraudster", "red"), ("troll", "red"), ("nice", "blue") })
            Assert.Equal(202, (int)(await app.As("fan", fan).PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes",
                VotingKit.Choices(("colour", colour), ("wheels", "sport")))).StatusCode);
        await VotingKit.SettledAsync(app, id, 3);
        Assert.Equal((3, 2, 1, 0, 0), await Tally(app, id));

        var admin = app.As("admin", "admin-1");
        var mod = app.As("moderator", "mod-1");
        async Task Ok(Task<HttpResponseMessage> call)
        {
            var r = await call;
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        Task Invalidate(string fan) => Ok(admin.PostAsJsonAsync($"/api/campaigns/{id}/fans/{fan}/invalidate", new { note = "vote ring" }));
        Task Restore(string fan) => Ok(admin.PostAsync($"/api/campaigns/{id}/fans/{fan}/restore", null));
        Task Block(string fan) => Ok(mod.PostAsJsonAsync($"/api/moderation/campaigns/{id}/fans/{fan}/block", new { reason = "abuse" }));
        Task Unblock(string fan) => Ok(mod.PostAsync($"/api/moderation/campaigns/{id}/fans/{fan}/unblock", null));

        // (a) invalidate → block → unblock: the fraud invalidation stands.
        await Invalidate("fraudster");
        Assert.Equal((2, 1, 1, 1, 0), await Tally(app, id));
        await Block("fraudster");
        Assert.Equal((2, 1, 1, 1, 0), await Tally(app, id));
        await Unblock("fraudster");
        Assert.Equal((2, 1, 1, 1, 0), await Tally(app, id));

        // (b) block → invalidate → restore: the block stands.
        await Block("troll");
        Assert.Equal((1, 0, 1, 1, 1), await Tally(app, id));
        await Invalidate("troll");
        Assert.Equal((1, 0, 1, 2, 0), await Tally(app, id));
        await Restore("troll");
        Assert.Equal((1, 0, 1, 1, 1), await Tally(app, id));

        // (c) both lifted → counted again, exactly.
        await Restore("fraudster");
        Assert.Equal((2, 1, 1, 0, 1), await Tally(app, id));
        await Unblock("troll");
        Assert.Equal((3, 2, 1, 0, 0), await Tally(app, id));

        // Each ledger keeps who acted, when and why (the refusals list is the admins' view of held votes).
        await Block("nice");
        await Invalidate("nice");
        var held = await (await admin.GetAsync($"/api/campaigns/{id}/rounds/r1/refusals")).Json();
        var nice = held.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("fan").GetString() == "nice");
        var ledger = nice.GetProperty("ledger").EnumerateArray()
            .Select(e => (e.GetProperty("ledger").GetString(), e.GetProperty("action").GetString(), e.GetProperty("actor").GetString(), e.GetProperty("reason").GetString()))
            .ToList();
        Assert.Equal([("moderation", "hold", "mod-1", "abuse"), ("fraud", "hold", "admin-1", "vote ring")], ledger);
    }
}
