using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Submissions;

namespace Campaigns.Tests.DataRights;

public sealed class WithdrawTests
{
    [Fact]
    public async Task A_withdrawn_entry_leaves_the_gallery_its_public_urls_answer_404_and_moderation_cannot_publish_it_again()
    {
        await using var app = await TestApp.StartAsync();
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan", "withdrawing-" + Guid.NewGuid().ToString("N")[..8]);
        var caption = "Withdrawn caption " + Guid.NewGuid().ToString("N")[..6];
        var (entryId, uploadUrl, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(TestImages.TaggedJpeg().Length, caption: caption));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(uploadUrl!, TestImages.TaggedJpeg())).StatusCode);
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, entryId)).StatusCode);
        Assert.Equal("pending", (await Submit.WaitProcessedAsync(fan, campaignId, entryId)).GetProperty("status").GetString());
        var moderation = app.Service<IEntryModeration>();
        await moderation.ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
        var media = (await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json()).GetProperty("media");
        var urls = new[] { media.GetProperty("small").GetString()!, media.GetProperty("large").GetString()! };
        using var http = new HttpClient();
        foreach (var url in urls) Assert.Equal(200, (int)(await http.GetAsync(url)).StatusCode);
        Assert.Contains(caption, await app.Client.GetStringAsync($"/api/public/campaigns/{campaignId}/gallery"));

        // Someone else's entry reads as not found.
        await (await app.As("fan").PostAsync($"/api/me/submissions/{campaignId}/{entryId}/withdraw", null)).Problem(404, "submission_not_found");

        var withdrawn = await (await fan.PostAsync($"/api/me/submissions/{campaignId}/{entryId}/withdraw", null)).Json();
        Assert.Equal("withdrawn", withdrawn.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, withdrawn.GetProperty("text").ValueKind);
        Assert.Equal(JsonValueKind.Null, withdrawn.GetProperty("media").ValueKind);
        foreach (var url in urls) Assert.Equal(404, (int)(await http.GetAsync(url)).StatusCode);
        Assert.DoesNotContain(entryId, await app.Client.GetStringAsync($"/api/public/campaigns/{campaignId}/gallery"));
        var storage = app.Service<StorageClients>();
        foreach (var container in new[] { MediaStorage.MediaContainer, MediaStorage.DerivativesContainer, MediaStorage.OriginalsContainer, MediaStorage.UploadsContainer })
            await foreach (var blob in storage.Container(container).GetBlobsAsync(new GetBlobsOptions { Prefix = container == MediaStorage.OriginalsContainer ? "image/" + campaignId : campaignId }))
                Assert.Fail($"{container}/{blob.Name} is still there");

        // Repeating is harmless; a later moderation decision cannot publish it again.
        var again = await fan.PostAsync($"/api/me/submissions/{campaignId}/{entryId}/withdraw", null);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal("withdrawn", (await again.Json()).GetProperty("status").GetString());
        var refused = await Assert.ThrowsAsync<ProblemException>(() =>
            moderation.ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None));
        Assert.Equal("entry_withdrawn", refused.Problem.Code);
        Assert.DoesNotContain(entryId, await app.Client.GetStringAsync($"/api/public/campaigns/{campaignId}/gallery"));
    }
}
