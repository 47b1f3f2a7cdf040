using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Submissions;

public sealed class GalleryByVotesTests
{
    private sealed class Revealable : IRevealedResults
    {
        public RevealedTally? Tally;
        public Task<RevealedTally?> GetRevealedAsync(string campaignId, string roundId, CancellationToken ct)
            => Task.FromResult(Tally is { } t && t.CampaignId == campaignId && t.RoundId == roundId ? t : null);
    }

    [Fact]
    public async Task The_gallery_orders_by_votes_only_after_the_reveal_and_pages_through_every_entry_once()
    {
        var results = new Revealable();
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Services.AddSingleton<IRevealedResults>(results)));
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var fan = app.As("fan", $"gallery-fan-{i}-" + Guid.NewGuid().ToString("N")[..6]);
            var created = await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions",
                new { kind = "story", title = $"Story {i}", text = "Sunday breakfast with my grandmother.", consent = Submit.Consent });
            Assert.Equal(201, (int)created.StatusCode);
            var id = (await created.Json()).GetProperty("submission").GetProperty("entryId").GetString()!;
            await app.Service<IEntryModeration>().ApplyAsync(campaignId, id, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
            ids.Add(id);
        }

        // Sealed: no order by votes (which would leak counts) before the reveal.
        await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=votes&round=final")).Problem(409, "results_not_revealed");
        await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=votes")).Problem(400, "validation_failed");
        await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=best")).Problem(400, "validation_failed");

        results.Tally = new RevealedTally(campaignId, "final", DateTimeOffset.UtcNow,
            [new(RevealedTally.EntriesCategory, ids[0], 5), new(RevealedTally.EntriesCategory, ids[2], 9)]);
        var seen = new List<string>();
        var votes = new Dictionary<string, long>();
        string? next = null;
        do
        {
            var page = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=votes&round=final&pageSize=2"
                + (next is null ? "" : "&continuation=" + next))).Json();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()!));
            foreach (var v in page.GetProperty("votes").EnumerateObject()) votes[v.Name] = v.Value.GetInt64();
            next = page.GetProperty("continuation").ValueKind == JsonValueKind.String ? page.GetProperty("continuation").GetString() : null;
        } while (next is not null);
        Assert.Equal([ids[2], ids[0], ids[1]], seen);
        Assert.Equal(9, votes[ids[2]]);
        Assert.Equal(0, votes[ids[1]]);
        await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=votes&round=final&continuation=-3")).Problem(400, "validation_failed");
    }
}
