using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.DataRights;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Voting;

namespace Campaigns.Tests.DataRights;

public sealed class ErasureTests
{
    [Fact]
    public async Task After_an_erasure_no_store_holds_the_fan_id_or_texts_except_kept_records_and_tallies_and_draws_stay_verifiable()
    {
        var (app, time) = await DataRightsKit.StartAsync();
        await using var _ = app;
        var f = await DataRightsKit.FootprintAsync(app, time);
        var owner = app.As("owner");

        // Also blocked by a moderator (block row, audit rows about the fan, held vote row) and a reaction to an episode.
        var blocked = await app.As("moderator").PostAsJsonAsync($"/api/moderation/campaigns/{f.CampaignId}/fans/{f.FanId}/block", new { reason = "spam" });
        Assert.True(blocked.IsSuccessStatusCode, await blocked.Content.ReadAsStringAsync());
        Assert.True(await app.Service<global::Campaigns.Episodes.EngagementStore>().ReactAsync(f.CampaignId, "ep-1", f.FanId, "2026-12-04", time.GetUtcNow(), default));

        // Before: the scan finds the fan everywhere it acted (so it can find what an erasure forgets).
        var before = await StorageScan.FindAsync(app, f.FanId, f.LabelText, f.Caption);
        Assert.Contains(before, h => h.StartsWith("table fans:", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("table votes:", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("table submissions:", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("table winners:", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("blob label-print/", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("table judging:", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("table moderation:", StringComparison.Ordinal));
        Assert.Contains(before, h => h.StartsWith("table episodeengagement:", StringComparison.Ordinal));
        var juryUrl = $"/api/judging/campaigns/{f.CampaignId}/rounds/jury/results";
        var juryBefore = (await (await app.As("marketer").GetAsync(juryUrl)).Json()).GetProperty("entries")[0];
        Assert.Equal(f.FanId, juryBefore.GetProperty("ownerFanId").GetString());
        var tallyBefore = (await VotingKit.TallyAsync(owner, f.CampaignId)).ToString();
        var resultsBefore = await app.Client.GetStringAsync($"/api/public/campaigns/{f.CampaignId}/rounds/r1/results");
        var drawBefore = await DataRightsKit.DrawAsync(app, f.CampaignId);
        Assert.True(drawBefore.Outcome.ExitCode == 0, string.Join("; ", drawBefore.Outcome.Problems));

        var requested = await f.Fan.PostAsync("/api/me/erasure", null);
        Assert.Equal(202, (int)requested.StatusCode);
        Assert.DoesNotContain(f.FanId, await requested.Content.ReadAsStringAsync());
        var done = await DataRightsKit.WaitErasedAsync(() => f.Fan.GetAsync("/api/me/erasure"), run: 1);
        Assert.Equal(FanErasure.Steps, done.GetProperty("finished").EnumerateArray().Select(s => s.GetString()).ToArray());

        var hits = await StorageScan.FindAsync(app, f.FanId, f.LabelText, f.Caption);
        Assert.True(hits.Count == 0, "Left after the erasure:\n" + string.Join("\n", hits));

        // Kept: only what a duty requires, each with its reason and date; a winner's slot keeps the fan for fulfilment.
        var draw = (await app.Service<global::Campaigns.Winners.DrawStore>().GetAsync(f.CampaignId, "prize", CancellationToken.None))!.Value.State;
        var kept = new List<KeptRecord>();
        await foreach (var k in app.Service<DataRightsStore>().KeptAsync(null, CancellationToken.None))
            if (k.CampaignId == f.CampaignId) kept.Add(k);
        if (draw.Slots!.Any(s => s.FanId == f.FanId))
        {
            var k = Assert.Single(kept);
            Assert.Equal(KeptRecord.PrizeFulfilment, k.Reason);
            Assert.Equal(time.GetUtcNow().AddDays(1095), k.KeepUntil);
        }
        else
        {
            Assert.Empty(kept);
            Assert.DoesNotContain(draw.AlternatePool!, a => a.FanId == f.FanId);
        }

        // Counts, revealed results and the published draw are what they were, and the draw still verifies.
        Assert.Equal(tallyBefore, (await VotingKit.TallyAsync(owner, f.CampaignId)).ToString());
        Assert.Equal(resultsBefore, await app.Client.GetStringAsync($"/api/public/campaigns/{f.CampaignId}/rounds/r1/results"));
        // Closed judging keeps its numbers; only the owner is gone.
        var juryAfter = (await (await app.As("marketer").GetAsync(juryUrl)).Json()).GetProperty("entries")[0];
        Assert.Equal(JsonValueKind.Null, juryAfter.GetProperty("ownerFanId").ValueKind);
        foreach (var field in new[] { "rank", "entryId", "scores", "meanTotal" })
            Assert.Equal(juryBefore.GetProperty(field).ToString(), juryAfter.GetProperty(field).ToString());
        var drawAfter = await DataRightsKit.DrawAsync(app, f.CampaignId);
        Assert.Equal(drawBefore.Record, drawAfter.Record);
        Assert.Equal(drawBefore.List, drawAfter.List);
        Assert.True(drawAfter.Outcome.ExitCode == 0, string.Join("; ", drawAfter.Outcome.Problems));

        // The token still works; there is nothing behind it any more.
        await (await f.Fan.GetAsync("/api/me/profile")).Problem(404, "profile_not_found");
        Assert.Empty((await (await f.Fan.GetAsync("/api/me/submissions")).Json()).GetProperty("items").EnumerateArray());
        using (var http = new HttpClient()) Assert.Equal(404, (int)(await http.GetAsync(f.PublicSmallUrl)).StatusCode);
        var previewKey = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("1\n" + f.LabelText)));
        Assert.Null(await app.Service<global::Campaigns.Submissions.MediaStorage>().GetAsync(global::Campaigns.Submissions.MediaStorage.PreviewsContainer, $"{f.CampaignId}/{previewKey}.png", CancellationToken.None));
        var export = await (await f.Fan.GetAsync("/api/me/export")).Json();
        Assert.Equal(JsonValueKind.Null, export.GetProperty("profile").ValueKind);
        Assert.Empty(export.GetProperty("votes").EnumerateArray());
        Assert.Empty(export.GetProperty("entries").EnumerateArray());

        // Asking again runs the whole job again over what is left: harmless, nothing new kept, the numbers unchanged.
        Assert.Equal(202, (int)(await f.Fan.PostAsync("/api/me/erasure", null)).StatusCode);
        await DataRightsKit.WaitErasedAsync(() => f.Fan.GetAsync("/api/me/erasure"), run: 2);
        Assert.Empty(await StorageScan.FindAsync(app, f.FanId, f.LabelText, f.Caption));
        var keptAgain = 0;
        await foreach (var k in app.Service<DataRightsStore>().KeptAsync(null, CancellationToken.None)) if (k.CampaignId == f.CampaignId) keptAgain++;
        Assert.Equal(kept.Count, keptAgain);
        Assert.Equal(tallyBefore, (await VotingKit.TallyAsync(owner, f.CampaignId)).ToString());
        Assert.Equal(drawBefore.Record, (await DataRightsKit.DrawAsync(app, f.CampaignId)).Record);
    }
}
