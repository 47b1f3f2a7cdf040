using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using NetVips;

namespace Campaigns.Tests.Submissions;

public sealed class SubmissionsApiTests
{
    private static Task Approve(TestApp app, string campaignId, string entryId)
        => app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);

    [Fact]
    public async Task A_fan_without_the_profile_data_the_campaign_requires_is_asked_for_it_instead_of_entering()
    {
        await using var app = await TestApp.StartAsync();
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow, eligibility: new { minAge = 18, countries = new[] { "IT" } });
        var story = new { kind = "story", locale = "en", title = "Our jar", text = "Breakfast in Alba.", consent = Submit.Consent };

        var refused = await (await app.As("fan", "no-data-fan").PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", story)).Problem(403, "profile_required");
        var errors = refused.GetProperty("errors");
        Assert.True(errors.TryGetProperty("birthDate", out _) && errors.TryGetProperty("country", out _), refused.ToString());

        var young = app.As("fan", "young-entrant");
        Assert.Equal(200, (int)(await young.PutAsJsonAsync("/api/me/profile", new { country = "IT", birthDate = DateTime.UtcNow.AddYears(-15).ToString("yyyy-MM-dd") })).StatusCode);
        await (await young.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", story)).Problem(403, "ineligible");

        var adult = app.As("fan", "adult-entrant");
        Assert.Equal(200, (int)(await adult.PutAsJsonAsync("/api/me/profile", new { country = "IT", birthDate = DateTime.UtcNow.AddYears(-30).ToString("yyyy-MM-dd") })).StatusCode);
        Assert.Equal(201, (int)(await adult.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", story)).StatusCode);
    }

    [Fact]
    public async Task Upload_complete_process_approve_then_visible_in_the_gallery_with_public_fields_only()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan", "fan-e2e-" + Guid.NewGuid().ToString("N")[..6]);
        var jpeg = TestImages.TaggedJpeg(2400, 1200, orientation: 6);

        var (entryId, url, created) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));
        Assert.Equal("awaiting_upload", created.GetProperty("submission").GetProperty("status").GetString());
        Assert.Equal("BlockBlob", created.GetProperty("upload").GetProperty("headers").GetProperty("x-ms-blob-type").GetString());
        Assert.Contains("sp=c&", url);                                     // create once, nothing else
        Assert.Contains("sr=b", url);                                      // exactly one blob
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url!, jpeg)).StatusCode);

        var completed = await Submit.CompleteAsync(fan, campaignId, entryId);
        Assert.Equal(202, (int)completed.StatusCode);
        Assert.Equal("processing", (await completed.Json()).GetProperty("status").GetString());

        var processed = await Submit.WaitProcessedAsync(fan, campaignId, entryId);
        Assert.Equal("pending", processed.GetProperty("status").GetString());
        var small = processed.GetProperty("media").GetProperty("small").GetString()!;
        var large = processed.GetProperty("media").GetProperty("large").GetString()!;
        // 2400×1200 stored with orientation 6 is a portrait photo: the large derivative is 540×1080.
        Assert.Equal((540, 1080), (processed.GetProperty("media").GetProperty("width").GetInt32(), processed.GetProperty("media").GetProperty("height").GetInt32()));

        // The owner reads the (private until approved) derivatives; they are clean; the original is not readable without a SAS.
        using var anon = new HttpClient();
        var smallBytes = await anon.GetByteArrayAsync(small);
        using (var img = Image.NewFromBuffer(smallBytes))
        {
            Assert.Equal(320, img.Height);
            Assert.DoesNotContain(img.GetFields(), f => f.StartsWith("exif", StringComparison.Ordinal) || f.StartsWith("xmp", StringComparison.Ordinal));
        }
        Assert.Equal(200, (int)(await anon.GetAsync(large)).StatusCode);
        var originalUrl = url!.Split('?')[0];
        Assert.False((await anon.GetAsync(originalUrl)).IsSuccessStatusCode);

        // Not in the gallery until approved.
        var before = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json();
        Assert.Empty(before.GetProperty("items").EnumerateArray());

        await Approve(app, campaignId, entryId);
        var gallery = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json();
        var item = Assert.Single(gallery.GetProperty("items").EnumerateArray());
        Assert.Equal(entryId, item.GetProperty("entryId").GetString());
        var published = (await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json()).GetProperty("media").GetProperty("small").GetString()!;
        Assert.Equal(published, item.GetProperty("media").GetProperty("small").GetString());
        Assert.Equal(smallBytes, await anon.GetByteArrayAsync(published));
        var fields = item.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.DoesNotContain("ownerFanId", fields);
        Assert.DoesNotContain("consent", fields);
        Assert.DoesNotContain("upload", fields);
        Assert.DoesNotContain("blob", item.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(MediaStorage.UploadsContainer, item.ToString());

        var own = await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json();
        Assert.Equal("approved", own.GetProperty("status").GetString());
        Assert.Equal("r1", own.GetProperty("consent").GetProperty("rulesVersion").GetString());
        Assert.True(own.GetProperty("consent").GetProperty("rightsGrantedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var approved = new List<EntryInfo>();
        await foreach (var e in app.Service<IEntryDirectory>().ApprovedAsync(campaignId, CancellationToken.None)) approved.Add(e);
        Assert.Equal(entryId, Assert.Single(approved).EntryId);
        Assert.Equal("approved", (await app.Service<IEntryDirectory>().GetAsync(campaignId, entryId, CancellationToken.None))!.Status);

        // Blocking the owner hides the entry from the gallery; unblocking restores it.
        var ownerId = (await app.Service<IEntryDirectory>().GetAsync(campaignId, entryId, CancellationToken.None))!.OwnerFanId;
        Assert.Equal(1, await app.Service<IEntryModeration>().SetOwnerHiddenAsync(campaignId, ownerId, true, CancellationToken.None));
        Assert.Empty((await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json()).GetProperty("items").EnumerateArray());
        Assert.Equal(1, await app.Service<IEntryModeration>().SetOwnerHiddenAsync(campaignId, ownerId, false, CancellationToken.None));
        Assert.Single((await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Stories_go_to_review_at_once_and_the_gallery_pages_newest_first()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (id, url, body) = await Submit.CreateAsync(fan, campaignId, new { kind = "story", locale = "fr", title = $"Histoire {i}", text = $"Le matin <b>{i}</b>\navec du pain", consent = Submit.Consent });
            Assert.Null(url);
            Assert.Equal("pending", body.GetProperty("submission").GetProperty("status").GetString());
            var review = RecordingReviewQueue.Seen[id];
            Assert.Equal(("story", "allow", "fr"), (review.Kind, review.Safety, review.Locale));
            ids.Add(id);
            await Approve(app, campaignId, id);
        }
        var page1 = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?pageSize=2")).Json();
        var first = page1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()).ToList();
        Assert.Equal([ids[2], ids[1]], first);
        var html = page1.GetProperty("items")[0].GetProperty("textHtml").GetString();
        Assert.Equal("Le matin &lt;b&gt;2&lt;/b&gt;<br>avec du pain", html);
        var token = page1.GetProperty("continuation").GetString();
        Assert.False(string.IsNullOrEmpty(token));
        var page2 = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery?pageSize=2&continuation={Uri.EscapeDataString(token!)}")).Json();
        Assert.Equal([ids[0]], page2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()).ToList());

        // Review-level text is accepted but flagged for the moderator.
        var (flagged, _, _) = await Submit.CreateAsync(fan, campaignId, new { kind = "story", locale = "en", title = "Breakfast", text = "See www.example.com for more", consent = Submit.Consent });
        Assert.Equal(("review", "contact_details"), (RecordingReviewQueue.Seen[flagged].Safety, RecordingReviewQueue.Seen[flagged].SafetyReason));
    }

    [Fact]
    public async Task The_sas_writes_one_blob_only_cannot_read_and_browsers_may_upload_cross_origin()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan");
        var jpeg = TestImages.TaggedJpeg();
        var (_, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));

        var other = url!.Replace("/original?", "/other?", StringComparison.Ordinal);
        Assert.Equal(403, (int)(await Submit.PutBlobAsync(other, jpeg)).StatusCode);
        var otherEntry = url.Replace($"/{campaignId}/", $"/{campaignId}-x/", StringComparison.Ordinal);
        Assert.Equal(403, (int)(await Submit.PutBlobAsync(otherEntry, jpeg)).StatusCode);

        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url, jpeg, origin: "https://microsite.example")).StatusCode);
        Assert.Equal(403, (int)(await Submit.PutBlobAsync(url, TestImages.Html)).StatusCode);     // create once: no overwrite
        using var http = new HttpClient();
        Assert.Equal(403, (int)(await http.GetAsync(url)).StatusCode);           // no read permission
        using (var del = new HttpRequestMessage(HttpMethod.Delete, url))
            Assert.Equal(403, (int)(await http.SendAsync(del)).StatusCode);      // no delete permission

        using var preflight = new HttpRequestMessage(HttpMethod.Options, url);
        preflight.Headers.Add("Origin", "https://microsite.example");
        preflight.Headers.Add("Access-Control-Request-Method", "PUT");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-ms-blob-type,content-type");
        var pre = await http.SendAsync(preflight);
        Assert.Equal(200, (int)pre.StatusCode);
        Assert.True(pre.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task An_expired_sas_cannot_be_used_and_the_timer_expires_the_slot()
    {
        // The app's clock runs two hours behind: the SAS it signs expired long ago for the storage service.
        var past = DateTimeOffset.UtcNow.AddHours(-2);
        var clock = new FakeTimeProvider(past);
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Services.AddSingleton<TimeProvider>(clock)));
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), past); // tokens are checked against the real clock
        var fan = app.As("fan");
        var jpeg = TestImages.TaggedJpeg();
        var (entryId, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));
        Assert.Equal(403, (int)(await Submit.PutBlobAsync(url!, jpeg)).StatusCode);

        // Still within the slot: nothing happens.
        clock.Advance(TimeSpan.FromMinutes(10));
        await app.Service<SubmissionService>().ExpireSlotsAsync(CancellationToken.None);
        Assert.Equal("awaiting_upload", (await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json()).GetProperty("status").GetString());

        clock.Advance(TimeSpan.FromMinutes(10));
        await app.Service<SubmissionService>().ExpireSlotsAsync(CancellationToken.None);
        var own = await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json();
        Assert.Equal(("expired", "upload_not_completed"), (own.GetProperty("status").GetString(), own.GetProperty("reasonCode").GetString()));
        await (await Submit.CompleteAsync(fan, campaignId, entryId)).Problem(410, "upload_slot_expired");
        await app.Service<SubmissionService>().ExpireSlotsAsync(CancellationToken.None); // idempotent
    }

    [Fact]
    public async Task Unreadable_and_oversized_images_end_rejected_with_their_reason_without_looping()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan");

        var full = TestImages.NoisyJpeg(1200, 900);
        var truncated = full[..(full.Length * 6 / 10)];
        var (id1, url1, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(truncated.Length));
        await Submit.PutBlobAsync(url1!, truncated);
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, id1)).StatusCode);

        var bomb = TestImages.PngBomb();
        var (id2, url2, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(bomb.Length, "image/png"));
        await Submit.PutBlobAsync(url2!, bomb, "image/png");
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, id2)).StatusCode);

        var r1 = await Submit.WaitProcessedAsync(fan, campaignId, id1);
        Assert.Equal(("rejected", "unreadable_image"), (r1.GetProperty("status").GetString(), r1.GetProperty("reasonCode").GetString()));
        Assert.Contains("could not be read", r1.GetProperty("reasonText").GetString());
        var r2 = await Submit.WaitProcessedAsync(fan, campaignId, id2);
        Assert.Equal(("rejected", "image_too_large"), (r2.GetProperty("status").GetString(), r2.GetProperty("reasonCode").GetString()));

        // Handled, not failed: a second delivery of the same message changes nothing and throws nothing.
        await app.Service<SubmissionService>().ProcessImageAsync(new SubmissionsApi.ImageMessage(campaignId, id1), CancellationToken.None);
        Assert.Equal("rejected", (await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{id1}")).Json()).GetProperty("status").GetString());
        var poison = app.Service<StorageClients>().Queue(app.Service<Microsoft.Extensions.Options.IOptions<SubmissionsOptions>>().Value.ImagesQueue + "-poison");
        var peeked = (await poison.PeekMessagesAsync(32)).Value;
        Assert.DoesNotContain(peeked, m => m.Body.ToString().Contains(id1, StringComparison.Ordinal) || m.Body.ToString().Contains(id2, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fan_sees_only_their_own_submissions()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var alice = app.As("fan", "alice-" + Guid.NewGuid().ToString("N")[..6]);
        var bob = app.As("fan", "bob-" + Guid.NewGuid().ToString("N")[..6]);
        var (aliceEntry, _, _) = await Submit.CreateAsync(alice, campaignId, new { kind = "story", title = "Mine", text = "Alice's story", consent = Submit.Consent });
        var jpeg = TestImages.TaggedJpeg();
        var (alicePhoto, url, _) = await Submit.CreateAsync(alice, campaignId, Submit.Photo(jpeg.Length));
        await Submit.PutBlobAsync(url!, jpeg);

        await (await bob.GetAsync($"/api/me/submissions/{campaignId}/{aliceEntry}")).Problem(404, "submission_not_found");
        await (await Submit.CompleteAsync(bob, campaignId, alicePhoto)).Problem(404, "submission_not_found");
        var bobList = await (await bob.GetAsync("/api/me/submissions")).Json();
        Assert.Empty(bobList.GetProperty("items").EnumerateArray());
        var bobOrders = await (await bob.GetAsync("/api/me/label-orders")).Json();
        Assert.Empty(bobOrders.GetProperty("items").EnumerateArray());

        var aliceList = await (await alice.GetAsync($"/api/me/submissions?campaignId={campaignId}")).Json();
        Assert.Equal(2, aliceList.GetProperty("items").GetArrayLength());
        Assert.Equal(401, (int)(await app.Client.GetAsync("/api/me/submissions")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_gets_4xx_problems_with_stable_codes()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(), new Dictionary<string, string?> { ["Submissions:MaxPhotoBytes"] = "4096" });
        var marketer = app.As("marketer");
        var now = DateTimeOffset.UtcNow;
        var campaignId = await Submit.CampaignAsync(marketer, now);
        var fan = app.As("fan");
        var other = app.As("fan");
        string Url(string c) => $"/api/campaigns/{c}/submissions";

        await (await fan.PostAsJsonAsync(Url(campaignId), Submit.Photo(5000))).Problem(413, "upload_too_large");
        await (await fan.PostAsJsonAsync(Url(campaignId), Submit.Photo(100, "text/html"))).Problem(415, "unsupported_content_type");
        await (await fan.PostAsJsonAsync(Url(campaignId), Submit.Photo(100, "image/heic"))).Problem(415, "heic_not_supported");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "story", title = "t", text = new string('a', 5001), consent = Submit.Consent })).Problem(400, "validation_failed");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "label", text = "", consent = Submit.Consent })).Problem(400, "validation_failed");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "label", text = "Per Marco", consent = Submit.Consent })).Problem(409, "label_template_missing");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "poem", text = "x", consent = Submit.Consent })).Problem(400, "validation_failed");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "story", title = "t", text = "x", consent = new { rulesVersion = "r0", rightsGrant = true, ageConfirmed = true } })).Problem(400, "rules_version_mismatch");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "story", title = "t", text = "x", consent = new { rulesVersion = "r1", ageConfirmed = true } })).Problem(400, "rights_grant_required");
        await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "story", title = "t", text = "x", consent = new { rulesVersion = "r1", rightsGrant = true } })).Problem(400, "age_confirmation_required");
        var offensive = await (await fan.PostAsJsonAsync(Url(campaignId), new { kind = "story", title = "Hi", text = "you are a f.u.c.k.e.r", consent = Submit.Consent })).Problem(422, "text_rejected");
        Assert.Equal("offensive_language", offensive.GetProperty("errors").GetProperty("reason")[0].GetString());
        Assert.DoesNotContain("fucker", offensive.ToString());
        await (await fan.PostRaw(Url(campaignId), "{\"kind\":")).Problem(400, "malformed_json");
        await (await fan.PostRaw(Url(campaignId), "{\"kind\":\"story\",\"title\":\"t\",\"text\":\"x\",\"consent\":{},\"vip\":true}")).Problem(400, "malformed_json");

        await (await fan.PostAsJsonAsync(Url("no-such-campaign"), Submit.Photo(100))).Problem(404, "campaign_not_found");
        await (await fan.PostAsJsonAsync(Url("BAD%20ID%27--"), Submit.Photo(100))).Problem(404, "campaign_not_found");
        var draft = await Submit.CampaignAsync(marketer, now, publish: false);
        await (await fan.PostAsJsonAsync(Url(draft), Submit.Photo(100))).Problem(404, "campaign_not_found");
        var closed = await Submit.CampaignAsync(marketer, now, entryOpen: false);
        await (await fan.PostAsJsonAsync(Url(closed), Submit.Photo(100))).Problem(409, "entries_closed");
        var votingOnly = await Submit.CampaignAsync(marketer, now, features: ["voting"]);
        await (await fan.PostAsJsonAsync(Url(votingOnly), Submit.Photo(100))).Problem(409, "submissions_not_enabled");

        // Complete: nothing uploaded, wrong bytes, too large, someone else's, twice, unknown id.
        var jpeg = TestImages.TaggedJpeg(60, 40);
        Assert.True(jpeg.Length < 4096);
        var (id, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));
        await (await Submit.CompleteAsync(fan, campaignId, id)).Problem(409, "upload_missing");
        await Submit.PutBlobAsync(url!, TestImages.Html.Concat(new byte[jpeg.Length - TestImages.Html.Length]).ToArray()); // HTML declared as a JPEG
        await (await Submit.CompleteAsync(fan, campaignId, id)).Problem(415, "unsupported_content_type");
        await Submit.PutBlobAsync(url!, new byte[5000].Select((_, i) => i < 3 ? new byte[] { 0xFF, 0xD8, 0xFF }[i] : (byte)0).ToArray());
        await (await Submit.CompleteAsync(fan, campaignId, id)).Problem(413, "upload_too_large");
        await Submit.PutBlobAsync(url!, jpeg);                               // the slot takes another attempt
        await (await Submit.CompleteAsync(other, campaignId, id)).Problem(404, "submission_not_found");
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, id)).StatusCode);
        await (await Submit.CompleteAsync(fan, campaignId, id)).Problem(409, "already_completed");
        await (await Submit.CompleteAsync(fan, campaignId, "0000000000zzzzzzzzzz")).Problem(404, "submission_not_found");
        await (await Submit.CompleteAsync(fan, campaignId, "x")).Problem(404, "submission_not_found");
        await (await fan.GetAsync("/api/me/submissions?continuation=garbage%20token")).Json(); // never a 5xx
        Assert.True((int)(await fan.GetAsync("/api/me/submissions?continuation=garbage%20token")).StatusCode < 500);
        await (await app.Client.GetAsync("/api/public/campaigns/no-such-campaign/gallery")).Problem(404, "campaign_not_found");
        Assert.Equal(403, (int)(await fan.PutAsJsonAsync($"/api/campaigns/{campaignId}/submission-settings", new { forbiddenNames = new[] { "x" }, brandTerms = Array.Empty<string>() })).StatusCode);

        // The accepted upload is processed, not lost.
        Assert.Equal("pending", (await Submit.WaitProcessedAsync(fan, campaignId, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Videos_keep_metadata_and_go_to_review_after_complete()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var fan = app.As("fan");
        var video = TestImages.Mp4Header.Concat(new byte[20_000]).ToArray();
        var (id, url, _) = await Submit.CreateAsync(fan, campaignId, new { kind = "video", title = "My watch", consent = Submit.Consent, upload = new { contentType = "video/mp4", size = video.Length } });
        await Submit.PutBlobAsync(url!, video, "video/mp4");
        var done = await (await Submit.CompleteAsync(fan, campaignId, id)).Json();
        Assert.Equal("pending", done.GetProperty("status").GetString());
        Assert.Equal("video", RecordingReviewQueue.Seen[id].Kind);

        // A JPEG is not a video, whatever it was declared as.
        var (id2, url2, _) = await Submit.CreateAsync(fan, campaignId, new { kind = "video", consent = Submit.Consent, upload = new { contentType = "video/mp4", size = TestImages.TaggedJpeg().Length } });
        await Submit.PutBlobAsync(url2!, TestImages.TaggedJpeg(), "video/mp4");
        await (await Submit.CompleteAsync(fan, campaignId, id2)).Problem(415, "unsupported_content_type");
    }

    [Fact]
    public async Task Blocked_fans_cannot_submit_and_queue_payloads_in_the_hosts_double_encoded_shape_are_handled()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Services.AddSingleton<IFanBlocklist, PrefixBlocklist>()));
        var campaignId = await Submit.CampaignAsync(app.As("marketer"), DateTimeOffset.UtcNow);
        var story = new { kind = "story", title = "t", text = "x", consent = Submit.Consent };
        await (await app.As("fan", "blocked-1").PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", story)).Problem(403, "fan_blocked");
        Assert.Equal(201, (int)(await app.As("fan", "fine-1").PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", story)).StatusCode);

        // The Functions host delivers a JSON queue string encoded a second time; an unknown entry is dropped, not retried.
        var message = JsonSerializer.Serialize(JsonSerializer.Serialize(new { campaignId, entryId = "0000000000zzzzzzzzzz" }));
        var payload = "{\"Data\":{\"message\":" + message + "},\"Metadata\":{\"DequeueCount\":\"1\",\"Id\":\"m1\"}}";
        var invoked = await app.InvokeAsync(SubmissionsApi.ProcessImageFunction, payload);
        Assert.Equal(200, (int)invoked.StatusCode);
    }

    [Fact]
    public async Task The_checked_version_is_copied_out_of_the_fans_reach_and_pinned()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var media = app.Service<MediaStorage>();
        var blobName = $"pin-test/{Guid.NewGuid():N}/original";
        var jpeg = TestImages.TaggedJpeg();
        await media.Uploads.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(jpeg));
        var (size, etag) = await media.ProbeUploadAsync(blobName, CancellationToken.None);
        var (copied, head, copyETag) = await media.TakeUploadAsync(blobName, "image/" + blobName, etag!, CancellationToken.None);
        Assert.Equal((jpeg.Length, jpeg.Length, ContentSniffer.Jpeg), (size, copied, ContentSniffer.Sniff(head)));

        // Whatever happens to the fan's blob afterwards, the server's copy is what was checked.
        await media.Uploads.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(TestImages.Html), overwrite: true);
        Assert.Equal(jpeg, (await media.DownloadOriginalAsync("image/" + blobName, copyETag, CancellationToken.None))?.ToArray());
        // A version other than the one checked is not copied.
        await Assert.ThrowsAsync<ProblemException>(() => media.TakeUploadAsync(blobName, "image/" + blobName, etag!, CancellationToken.None));
    }
}
