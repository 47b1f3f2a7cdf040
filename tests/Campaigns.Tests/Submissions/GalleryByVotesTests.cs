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
        // A clock that stands still: the ranking's cache lifetime cannot run out mid-test on a slow machine.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b =>
        {
            b.Services.AddSingleton<IRevealedResults>(results);
            b.Services.AddSingleton<TimeProvider>(clock);
        }));
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
        // The ranking is built once and served to every page for its cache lifetime, not re-read per request: an entry
        // approved just now is not in it yet (the newest-first gallery, read per request, already shows it).
        var late = await app.As("fan", "gallery-late-" + Guid.NewGuid().ToString("N")[..6]).PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions",
            new { kind = "story", title = "Late", text = "Coffee first.", consent = Submit.Consent });
        var lateId = (await late.Json()).GetProperty("submission").GetProperty("entryId").GetString()!;
        await app.Service<IEntryModeration>().ApplyAsync(campaignId, lateId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
        var newest = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?pageSize=10")).Json();
        Assert.Contains(newest.GetProperty("items").EnumerateArray(), i => i.GetProperty("entryId").GetString() == lateId);
        var byVotes = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=votes&round=final&pageSize=10")).Json();
        Assert.Equal([ids[2], ids[0], ids[1]], byVotes.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()));
        // Past the lifetime the ranking is rebuilt (the first read after it may still get the old one while it refreshes).
        clock.Advance(TimeSpan.FromSeconds(16));
        var ranked = new List<string?>();
        for (var attempt = 0; attempt < 50 && ranked.Count < 4; attempt++)
        {
            if (attempt > 0) await Task.Delay(100);
            var later = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?order=votes&round=final&pageSize=10")).Json();
            ranked = later.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()).ToList();
        }
        Assert.Equal([ids[2], ids[0]], ranked.Take(2));
        Assert.Equal(new[] { ids[1], lateId }.Order(), ranked.Skip(2).Order()); // both without votes: the tie-break orders them
    }
}
