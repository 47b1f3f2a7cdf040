using System.Collections.Concurrent;
using System.Net.Http.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Submissions;

public sealed class ReviewHandOffTests
{
    /// <summary>Moderation's queue is unreachable for the first request about each entry (a crash or an outage at that moment).</summary>
    private sealed class FlakyReviewQueue : IReviewQueue
    {
        public readonly ConcurrentDictionary<string, int> Attempts = new();
        public readonly ConcurrentDictionary<string, ReviewRequest> Received = new();

        public Task EnqueueAsync(ReviewRequest request, CancellationToken ct)
        {
            if (Attempts.AddOrUpdate(request.EntryId, 1, (_, n) => n + 1) == 1)
                throw new InvalidOperationException("review store unavailable");
            Received[request.EntryId] = request;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_text_entry_whose_review_request_fails_is_still_accepted_and_reaches_review_through_the_back_up_message()
    {
        var queue = new FlakyReviewQueue();
        await using var app = await TestApp.StartAsync(b => b.Services.AddSingleton<IReviewQueue>(queue),
            new Dictionary<string, string?>
            {
                ["Submissions:ReviewRetryDelaySeconds"] = "1",
                // Its own queue: other test apps sharing Azurite would otherwise take the message to their review queues.
                ["Submissions:ImagesQueue"] = "images-" + Guid.NewGuid().ToString("N")[..12],
            });
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan", "story-" + Guid.NewGuid().ToString("N")[..8]);

        var created = await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions",
            new { kind = "story", title = "Our first jar", text = "Breakfast in Alba, 1964.", consent = Submit.Consent });
        Assert.Equal(201, (int)created.StatusCode);
        var entryId = (await created.Json()).GetProperty("submission").GetProperty("entryId").GetString()!;
        Assert.False(queue.Received.ContainsKey(entryId));

        var until = DateTime.UtcNow.AddSeconds(30);
        while (!queue.Received.ContainsKey(entryId) && DateTime.UtcNow < until) await Task.Delay(100);
        Assert.True(queue.Received.ContainsKey(entryId), "the back-up message did not hand the entry to review");
        Assert.Equal(campaignId, queue.Received[entryId].CampaignId);
        Assert.Equal("pending", (await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json()).GetProperty("status").GetString());
    }
}
