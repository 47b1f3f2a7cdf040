using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using NetVips;

namespace Campaigns.Tests.Submissions;

/// <summary>"Nothing lost, nothing leaked": moderated media and uploads the fan cannot keep a hand on.</summary>
public sealed class MediaSafetyTests
{
    private static Task Decide(TestApp app, string campaignId, string entryId, string status)
        => app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision(status, status == "rejected" ? "moderation" : null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);

    private static async Task<(string EntryId, JsonElement Own)> PendingPhotoAsync(TestApp app, HttpClient fan, string campaignId, byte[] jpeg)
    {
        var (entryId, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url!, jpeg)).StatusCode);
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, entryId)).StatusCode);
        var own = await Submit.WaitProcessedAsync(fan, campaignId, entryId);
        Assert.True("pending" == own.GetProperty("status").GetString(), own.ToString());
        return (entryId, own);
    }

    private static string Large(JsonElement view) => view.GetProperty("media").GetProperty("large").GetString()!;
    private static string WithoutQuery(string url) => url.Split('?')[0];

    [Fact]
    public async Task Derivatives_are_public_only_while_approved_and_a_withdrawn_url_stops_answering()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan", "fan-media-" + Guid.NewGuid().ToString("N")[..6]);
        var (entryId, pending) = await PendingPhotoAsync(app, fan, campaignId, TestImages.TaggedJpeg(1600, 1200));
        using var anon = new HttpClient();

        // Pending: the owner sees it through a short-lived read URL; the same blob without the signature is not public,
        // and nothing of the entry is in the public container.
        var ownLarge = Large(pending);
        Assert.Equal(200, (int)(await anon.GetAsync(ownLarge)).StatusCode);
        Assert.NotEqual(200, (int)(await anon.GetAsync(WithoutQuery(ownLarge))).StatusCode);
        var media = app.Service<MediaStorage>();
        Assert.Empty(await media.Media.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{campaignId}/{entryId}/", CancellationToken.None).ToListAsync());
        // Processed: neither the fan's upload nor the server's copy of the original is kept (no retention set).
        foreach (var (container, prefix) in new[] { (media.Uploads, $"{campaignId}/{entryId}/"), (media.Originals, $"image/{campaignId}/{entryId}/") })
            Assert.Empty(await container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, CancellationToken.None).ToListAsync());

        // Approved: public, cached briefly (so that a withdrawal takes effect), and the same URL in the gallery.
        await Decide(app, campaignId, entryId, "approved");
        var approvedView = await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json();
        var publicLarge = Large(approvedView);
        Assert.DoesNotContain("?", publicLarge);
        var ok = await anon.GetAsync(publicLarge);
        Assert.Equal(200, (int)ok.StatusCode);
        Assert.Equal("public, max-age=300", ok.Headers.CacheControl?.ToString());
        var gallery = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json();
        Assert.Equal(publicLarge, Large(Assert.Single(gallery.GetProperty("items").EnumerateArray())));

        // Rejected after approval: the public URL stops answering.
        await Decide(app, campaignId, entryId, "rejected");
        Assert.Equal(404, (int)(await anon.GetAsync(publicLarge)).StatusCode);
        var rejectedView = await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json();
        Assert.NotEqual(WithoutQuery(publicLarge), WithoutQuery(Large(rejectedView)));

        // Approved again: a new name, never the withdrawn one; blocking the owner withdraws it too.
        await Decide(app, campaignId, entryId, "approved");
        var again = Large(await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json());
        Assert.NotEqual(publicLarge, again);
        Assert.Equal(200, (int)(await anon.GetAsync(again)).StatusCode);
        var owner = (await app.Service<IEntryDirectory>().GetAsync(campaignId, entryId, CancellationToken.None))!.OwnerFanId;
        await app.Service<IEntryModeration>().SetOwnerHiddenAsync(campaignId, owner, true, CancellationToken.None);
        Assert.Equal(404, (int)(await anon.GetAsync(again)).StatusCode);

        // Hidden after reports: withdrawn as well.
        await app.Service<IEntryModeration>().SetOwnerHiddenAsync(campaignId, owner, false, CancellationToken.None);
        var shown = Large(await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json());
        Assert.Equal(200, (int)(await anon.GetAsync(shown)).StatusCode);
        await Decide(app, campaignId, entryId, "hidden");
        Assert.Equal(404, (int)(await anon.GetAsync(shown)).StatusCode);
    }

    [Fact]
    public async Task A_lease_taken_through_the_upload_sas_cannot_block_cleanup()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Services.AddSingleton<TimeProvider>(clock)));
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), clock.GetUtcNow());
        var fan = app.As("fan");
        var jpeg = TestImages.TaggedJpeg();
        var (_, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url!, jpeg)).StatusCode);

        var blob = new BlobClient(new Uri(url!));
        var leased = false;
        try { await blob.GetBlobLeaseClient().AcquireAsync(TimeSpan.FromSeconds(-1)); leased = true; }
        catch (RequestFailedException e) when (e.Status == 403) { }
        var snapshot = false;
        try { await blob.CreateSnapshotAsync(); snapshot = true; }
        catch (RequestFailedException e) when (e.Status is 403 or 412) { }
        Assert.False(leased, "The upload SAS must not allow a lease.");
        // Whatever storage let through (a SAS signed before create-only, another client): an infinite lease and a
        // snapshot on the blob must not stop the cleanup either.
        var serverSide = app.Service<MediaStorage>().Uploads.GetBlobClient(new BlobUriBuilder(new Uri(url!)).BlobName);
        await serverSide.GetBlobLeaseClient().AcquireAsync(TimeSpan.FromSeconds(-1));
        if (!snapshot) await serverSide.CreateSnapshotAsync();

        clock.Advance(TimeSpan.FromMinutes(20));
        await app.Service<SubmissionService>().ExpireSlotsAsync(CancellationToken.None);
        var left = await app.Service<MediaStorage>().Uploads.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.Snapshots,
            new BlobUriBuilder(new Uri(url!)).BlobName, CancellationToken.None).ToListAsync();
        Assert.True(left.Count == 0, $"{left.Count} blob(s) left after cleanup (snapshot taken: {snapshot}).");
    }

    [Fact]
    public async Task Bytes_written_after_complete_do_not_change_what_is_processed()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan");
        var first = TestImages.TaggedJpeg(1600, 800);
        var (entryId, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(first.Length));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url!, first)).StatusCode);
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, entryId)).StatusCode);

        // Whether storage refuses the rewrite or takes it into the fan's now-unused slot, processing uses what was checked.
        await Submit.PutBlobAsync(url!, TestImages.TaggedJpeg(600, 1200));
        var own = await Submit.WaitProcessedAsync(fan, campaignId, entryId);
        Assert.True("pending" == own.GetProperty("status").GetString(), own.ToString());
        Assert.Equal((1080, 540), (own.GetProperty("media").GetProperty("width").GetInt32(), own.GetProperty("media").GetProperty("height").GetInt32()));
    }

    [Fact]
    public async Task A_real_file_larger_than_declared_or_of_another_type_is_refused_at_complete()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan");
        var big = TestImages.NoisyJpeg(1200, 1200);
        Assert.True(big.Length > 100_000);
        var (entryId, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(1_000));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url!, big)).StatusCode);
        await (await Submit.CompleteAsync(fan, campaignId, entryId)).Problem(413, "upload_size_mismatch");

        var png = TestImages.Png(64, 64);
        var (pngEntry, pngUrl, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(png.Length, "image/jpeg"));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(pngUrl!, png)).StatusCode);
        await (await Submit.CompleteAsync(fan, campaignId, pngEntry)).Problem(415, "content_type_mismatch");
    }

    [Fact]
    public async Task A_fan_may_submit_at_most_the_configured_number_of_entries_per_campaign()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Configuration["Submissions:MaxEntriesPerFan"] = "2"));
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan", "fan-quota-" + Guid.NewGuid().ToString("N")[..6]);
        object Story(int i) => new { kind = "story", locale = "en", title = $"Story {i}", text = "Breakfast.", consent = Submit.Consent };
        await Submit.CreateAsync(fan, campaignId, Story(1));
        await Submit.CreateAsync(fan, campaignId, Story(2));
        await (await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", Story(3))).Problem(409, "submission_quota_reached");
        // Another fan, and the same fan in another campaign, are not affected.
        await Submit.CreateAsync(app.As("fan", "fan-other-" + Guid.NewGuid().ToString("N")[..6]), campaignId, Story(4));
        var other = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        await Submit.CreateAsync(fan, other, Story(5));
    }

    [Fact]
    public async Task A_submission_retried_with_its_Idempotency_Key_is_one_entry_even_at_the_quota_and_concurrently()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Configuration["Submissions:MaxEntriesPerFan"] = "2"));
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan", "fan-idem-" + Guid.NewGuid().ToString("N")[..6]);
        var story = new { kind = "story", locale = "en", title = "Story", text = "Breakfast.", consent = Submit.Consent };
        async Task<(int Status, string? Id)> Send(string? key, object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaignId}/submissions") { Content = JsonContent.Create(body) };
            if (key is not null) request.Headers.Add("Idempotency-Key", key);
            var response = await fan.SendAsync(request);
            var json = await response.Json();
            return ((int)response.StatusCode, response.IsSuccessStatusCode ? json.GetProperty("submission").GetProperty("entryId").GetString() : null);
        }

        // The same key sent three times at once, then again: one entry.
        var first = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Send("order-1", story)));
        Assert.All(first, r => Assert.Equal(201, r.Status));
        Assert.Single(first.Select(r => r.Id).Distinct());
        Assert.Equal(first[0], await Send("order-1", story));
        // A new key is a new entry; the quota (2) is then reached, yet a retry of either is still answered.
        var second = await Send("order-2", story);
        Assert.Equal(201, second.Status);
        Assert.NotEqual(first[0].Id, second.Id);
        Assert.Equal(first[0], await Send("order-1", story));
        await (await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", story)).Problem(409, "submission_quota_reached");
        var own = await (await fan.GetAsync($"/api/me/submissions?campaignId={campaignId}")).Json();
        Assert.Equal(2, own.GetProperty("items").GetArrayLength());

        // The same key from another fan is that fan's own entry.
        var other = app.As("fan", "fan-idem-other-" + Guid.NewGuid().ToString("N")[..6]);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaignId}/submissions") { Content = JsonContent.Create(story) };
        request.Headers.Add("Idempotency-Key", "order-1");
        var theirs = await (await other.SendAsync(request)).Json();
        Assert.NotEqual(first[0].Id, theirs.GetProperty("submission").GetProperty("entryId").GetString());

        var bad = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaignId}/submissions") { Content = JsonContent.Create(story) };
        bad.Headers.TryAddWithoutValidation("Idempotency-Key", "not ok!");
        await (await fan.SendAsync(bad)).Problem(400, "invalid_idempotency_key");
    }

    [Fact]
    public async Task Media_stored_before_moderation_existed_leave_the_public_container_and_shown_entries_are_published_again()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var media = app.Service<MediaStorage>();
        var store = app.Service<SubmissionStore>();
        var shown = await PendingPhotoAsync(app, app.As("fan", "fan-old-a-" + Guid.NewGuid().ToString("N")[..6]), campaignId, TestImages.TaggedJpeg(800, 600));
        var rejected = await PendingPhotoAsync(app, app.As("fan", "fan-old-b-" + Guid.NewGuid().ToString("N")[..6]), campaignId, TestImages.TaggedJpeg(800, 600));
        await Decide(app, campaignId, shown.EntryId, "approved");
        await Decide(app, campaignId, rejected.EntryId, "rejected");

        // The old layout: derivatives public under their record's names, no publication token, nothing private.
        foreach (var id in new[] { shown.EntryId, rejected.EntryId })
        {
            var e = await store.UpdateAsync(campaignId, id, x => x with { Media = x.Media! with { PublicToken = null } }, CancellationToken.None);
            await foreach (var b in media.Media.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{campaignId}/{id}/", CancellationToken.None))
                await media.Media.DeleteBlobAsync(b.Name);
            foreach (var name in new[] { e!.Media!.SmallBlob, e.Media.LargeBlob })
            {
                var bytes = (await media.Derivatives.GetBlobClient(name).DownloadContentAsync()).Value.Content;
                await media.Media.GetBlobClient(name).UploadAsync(bytes);
                await media.Derivatives.DeleteBlobAsync(name);
            }
        }
        using var anon = new HttpClient();
        var oldRejectedUrl = media.Media.GetBlobClient($"{campaignId}/{rejected.EntryId}/1080.jpg").Uri;
        Assert.Equal(200, (int)(await anon.GetAsync(oldRejectedUrl)).StatusCode); // the finding: a rejected photo's URL answers 200

        await app.Service<SubmissionStore>().DeleteSlotRowAsync(MediaMigration.MarkerPartition, MediaMigration.MarkerRow, CancellationToken.None);
        var migration = app.Services.GetServices<IStartupTask>().OfType<MediaMigration>().Single();
        await migration.RunAsync(CancellationToken.None);
        await migration.RunAsync(CancellationToken.None); // a second start changes nothing

        Assert.Equal(404, (int)(await anon.GetAsync(oldRejectedUrl)).StatusCode);
        Assert.Equal(404, (int)(await anon.GetAsync(media.Media.GetBlobClient($"{campaignId}/{shown.EntryId}/1080.jpg").Uri)).StatusCode);
        // The shown entry has a public URL again (a new name), the rejected one none; both keep private derivatives.
        var gallery = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json();
        var url = Large(Assert.Single(gallery.GetProperty("items").EnumerateArray()));
        Assert.Equal(200, (int)(await anon.GetAsync(url)).StatusCode);
        var rejectedEntry = (await store.GetAsync(campaignId, rejected.EntryId, CancellationToken.None))!.Value.Entry;
        Assert.Null(rejectedEntry.Media!.PublicToken);
        Assert.True((await media.Derivatives.GetBlobClient(rejectedEntry.Media.LargeBlob).ExistsAsync()).Value);
    }
}
