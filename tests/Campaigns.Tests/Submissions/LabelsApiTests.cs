using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Infrastructure;
using NetVips;

namespace Campaigns.Tests.Submissions;

public sealed class LabelsApiTests
{
    private static object Template => new
    {
        width = 600, height = 300, backgroundColor = "#ffcc00", textColor = "#3a1f04",
        box = new { x = 50, y = 100, width = 500, height = 120 }, maxFontPoints = 40, printScale = 2,
    };

    [Fact]
    public async Task Label_order_goes_from_submitted_to_shipped_and_the_fan_can_look_it_up()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        var fanId = "fan-label-" + Guid.NewGuid().ToString("N")[..6];
        var fan = app.As("fan", fanId);
        var other = app.As("fan");

        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", new { width = 600, height = 300, backgroundColor = "red", textColor = "#000000", box = new { x = 0, y = 0, width = 10, height = 10 } }))
            .Problem(400, "validation_failed");

        // Preview: a PNG of the template, cached by template version + text.
        var text = "=Pour <b>Marie</b> 💛 @/etc/hostname";
        var p1 = await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text });
        Assert.Equal(200, (int)p1.StatusCode);
        Assert.Equal("image/png", p1.Content.Headers.ContentType?.MediaType);
        using (var img = Image.NewFromBuffer(await p1.Content.ReadAsByteArrayAsync()))
            Assert.Equal((600, 300), (img.Width, img.Height));
        var p2 = await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text });
        Assert.Equal(p1.Headers.ETag, p2.Headers.ETag);
        Assert.Equal(await p1.Content.ReadAsByteArrayAsync(), await p2.Content.ReadAsByteArrayAsync());
        var refused = await (await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = "S.H.I.T" })).Problem(422, "text_rejected");
        Assert.Equal("offensive_language", refused.GetProperty("errors").GetProperty("reason")[0].GetString());
        await (await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = "  " })).Problem(400, "label_text_empty");
        await (await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = new string('x', 41) })).Problem(400, "label_text_too_long");

        // Forbidden names per campaign.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/submission-settings", new { forbiddenNames = new[] { "Rival Person" }, brandTerms = new[] { "Choco Spread" } })).StatusCode);
        var named = await (await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", new { kind = "label", text = "R1val P.e.r.s.o.n", consent = Submit.Consent })).Problem(422, "text_rejected");
        Assert.Equal("protected_name", named.GetProperty("errors").GetProperty("reason")[0].GetString());

        var (entryId, _, body) = await Submit.CreateAsync(fan, campaignId, new { kind = "label", locale = "fr", text, consent = Submit.Consent });
        Assert.Equal("in_review", body.GetProperty("submission").GetProperty("orderStatus").GetString());
        Assert.Equal("label", RecordingReviewQueue.Seen[entryId].Kind);
        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)).Problem(409, "nothing_to_print");

        await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
        var orders = await (await fan.GetAsync("/api/me/label-orders")).Json();
        Assert.Equal("approved", orders.GetProperty("items")[0].GetProperty("status").GetString());
        Assert.Empty((await (await other.GetAsync("/api/me/label-orders")).Json()).GetProperty("items").EnumerateArray());

        var created = await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null);
        Assert.Equal(201, (int)created.StatusCode);
        var batch = await created.Json();
        Assert.Equal(1, batch.GetProperty("count").GetInt32());
        var batchId = batch.GetProperty("batchId").GetString();
        var csv = await marketer.GetStringAsync($"/api/campaigns/{campaignId}/print-batches/{batchId}/manifest");
        Assert.StartsWith("entry_id,fan_id,locale,text,image,submitted_at", csv.TrimStart('\uFEFF'));
        Assert.Contains($"\"{entryId}\",\"{fanId}\",\"fr\",\"'=Pour <b>Marie</b> 💛 @/etc/hostname\"", csv); // formula neutralised, text literal
        var imageBlob = $"{campaignId}/{batchId}/{entryId}.png";
        var print = await app.Service<MediaStorage>().GetAsync(MediaStorage.PrintContainer, imageBlob, CancellationToken.None);
        using (var printImg = Image.NewFromBuffer(print!)) Assert.Equal((1200, 600), (printImg.Width, printImg.Height));
        Assert.Equal("in_print_batch", (await (await fan.GetAsync("/api/me/label-orders")).Json()).GetProperty("items")[0].GetProperty("status").GetString());
        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)).Problem(409, "nothing_to_print"); // batched once only

        // Shipments from the carrier's CSV; bad lines are reported, good ones applied; importing again is harmless.
        var shipments = $"entry_id,carrier,tracking_number\n{entryId},DHL Express,JD0146000012345\n0000000000zzzzzzzzzz,DHL,JD0146000077777\nnot-an-id,DHL,JD0146000099999\n";
        for (var i = 0; i < 2; i++)
        {
            var imported = await (await marketer.PostAsync($"/api/campaigns/{campaignId}/shipments", new StringContent(shipments, System.Text.Encoding.UTF8, "text/csv"))).Json();
            Assert.Equal(1, imported.GetProperty("updated").GetInt32());
            Assert.Equal(new[] { "entry_not_found", "bad_entry_id" }, imported.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("code").GetString()!).ToArray());
        }
        var shipped = (await (await fan.GetAsync("/api/me/label-orders")).Json()).GetProperty("items")[0];
        Assert.Equal(("shipped", "DHL Express", "JD0146000012345"), (shipped.GetProperty("status").GetString(), shipped.GetProperty("carrier").GetString(), shipped.GetProperty("trackingNumber").GetString()));
        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/shipments", new StringContent("id;carrier\n", System.Text.Encoding.UTF8, "text/csv"))).Problem(400, "invalid_csv");
        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/shipments", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).Problem(415, "unsupported_media_type");
        Assert.Equal(403, (int)(await fan.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)).StatusCode);
    }

    [Fact]
    public async Task A_background_image_is_checked_and_used_in_previews()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);

        var html = await marketer.PutAsync($"/api/campaigns/{campaignId}/label-template/background", new ByteArrayContent(TestImages.Html));
        await html.Problem(422, "unsupported_format");
        var bg = TestImages.Png(1200, 600);
        var ok = await marketer.PutAsync($"/api/campaigns/{campaignId}/label-template/background", new ByteArrayContent(bg));
        Assert.Equal(200, (int)ok.StatusCode);
        Assert.Equal(2, (await ok.Json()).GetProperty("version").GetInt32());

        var png = await (await app.As("fan").PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = "Ciao" })).Content.ReadAsByteArrayAsync();
        using var img = Image.NewFromBuffer(png);
        Assert.Equal([0.0, 128.0, 0.0], img.Getpoint(3, 3).Take(3).ToArray()); // the background's green, not the template colour
    }

    [Fact]
    public async Task Concurrent_print_batches_never_print_the_same_label_twice_and_every_label_is_printed()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        var labels = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var (entryId, _, _) = await Submit.CreateAsync(app.As("fan"), campaignId, new { kind = "label", locale = "fr", text = $"Marie {i}", consent = Submit.Consent });
            await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
            labels.Add(entryId);
        }

        // Two staff members (or the nightly timer and a marketer) start a batch at the same moment.
        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)));
        var printed = new List<string>();
        foreach (var r in responses.Where(r => (int)r.StatusCode == 201))
        {
            var batchId = (await r.Json()).GetProperty("batchId").GetString();
            var csv = await marketer.GetStringAsync($"/api/campaigns/{campaignId}/print-batches/{batchId}/manifest");
            printed.AddRange(csv.TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')[0].Trim('"')));
        }
        Assert.Equal(printed.Count, printed.Distinct().Count());
        Assert.Equal(labels.Order(), printed.Order());
        Assert.All(responses, r => Assert.Contains((int)r.StatusCode, new[] { 201, 409 }));
    }

    [Fact]
    public async Task A_print_batch_request_retried_with_its_Idempotency_Key_answers_with_the_same_batch_not_a_second_one()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b => b.Configuration["Submissions:PrintBatchSize"] = "4"));
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        for (var i = 0; i < 10; i++)
        {
            var (entryId, _, _) = await Submit.CreateAsync(app.As("fan"), campaignId, new { kind = "label", locale = "fr", text = $"Luc {i}", consent = Submit.Consent });
            await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
        }
        async Task<JsonElement> Batch(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaignId}/print-batches");
            request.Headers.Add("Idempotency-Key", key);
            var response = await marketer.SendAsync(request);
            Assert.Equal(201, (int)response.StatusCode);
            return await response.Json();
        }

        var first = await Batch("night-run-1");
        var again = await Batch("night-run-1"); // the answer was lost; the console sends the same request again
        Assert.Equal(first.GetProperty("batchId").GetString(), again.GetProperty("batchId").GetString());
        Assert.Equal(4, again.GetProperty("count").GetInt32());
        var second = await Batch("night-run-2");
        Assert.NotEqual(first.GetProperty("batchId").GetString(), second.GetProperty("batchId").GetString());
        var batches = (await (await marketer.GetAsync($"/api/campaigns/{campaignId}/print-batches")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, batches.Count);
        Assert.Equal(8, batches.Sum(b => b.GetProperty("count").GetInt32()));
    }

    [Fact]
    public async Task A_batch_left_mid_claim_by_a_stopped_process_is_finished_by_the_next_run_not_lost()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(b => { Submit.WithReviewQueue()(b); b.Services.AddSingleton<TimeProvider>(time); });
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, time.GetUtcNow());
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        var (entryId, _, _) = await Submit.CreateAsync(app.As("fan"), campaignId, new { kind = "label", locale = "it", text = "Giulia", consent = Submit.Consent });
        await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", time.GetUtcNow()), CancellationToken.None);

        // What a process killed after claiming leaves behind: the announced batch and its claimed label, no manifest.
        var store = app.Service<SubmissionStore>();
        var now = time.GetUtcNow();
        await store.PutDocAsync(SubmissionStore.BatchPartition(campaignId), "bkilled", new global::Campaigns.Labels.PrintBatch(campaignId, "bkilled", now, "schedule", 0, "", [entryId],
            global::Campaigns.Labels.PrintBatch.Claiming), CancellationToken.None);
        await store.UpdateAsync(campaignId, entryId, e => e with { Order = (e.Order ?? new LabelOrder()) with { BatchId = "bkilled", BatchedAt = now } }, CancellationToken.None);
        Assert.Empty((await (await marketer.GetAsync($"/api/campaigns/{campaignId}/print-batches")).Json()).GetProperty("items").EnumerateArray());

        time.Advance(global::Campaigns.Labels.LabelService.AbandonedAfter + TimeSpan.FromMinutes(1));
        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)).Problem(409, "nothing_to_print");
        var batches = (await (await marketer.GetAsync($"/api/campaigns/{campaignId}/print-batches")).Json()).GetProperty("items").EnumerateArray().ToList();
        var recovered = Assert.Single(batches);
        Assert.Equal("bkilled", recovered.GetProperty("batchId").GetString());
        var csv = await marketer.GetStringAsync($"/api/campaigns/{campaignId}/print-batches/bkilled/manifest");
        Assert.Contains($"\"{entryId}\"", csv);
    }

    [Fact]
    public async Task A_label_still_listed_as_waiting_after_a_batch_claimed_it_is_repaired_by_the_next_run()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        var (entryId, _, _) = await Submit.CreateAsync(app.As("fan"), campaignId, new { kind = "label", locale = "it", text = "Giulia", consent = Submit.Consent });
        await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);
        var created = await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null);
        Assert.Equal(201, (int)created.StatusCode);

        // What a process killed between a claim's entry write and its copies leaves: the label batched, yet still waiting.
        var store = app.Service<SubmissionStore>();
        var table = app.Service<StorageClients>().Table(SubmissionStore.TableName);
        await table.UpsertEntityAsync(new Azure.Data.Tables.TableEntity(SubmissionStore.LabelQueuePartition(campaignId), entryId));

        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)).Problem(409, "nothing_to_print");
        Assert.Empty(await store.RowKeysAsync(SubmissionStore.LabelQueuePartition(campaignId), 10, CancellationToken.None));
        Assert.Single((await (await marketer.GetAsync($"/api/campaigns/{campaignId}/print-batches")).Json()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Label_previews_are_limited_per_fan_per_minute()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(), new Dictionary<string, string?> { ["Submissions:PreviewsPerMinute"] = "3" });
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        var fan = app.As("fan");
        for (var i = 0; i < 3; i++)
            Assert.Equal(200, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = $"Luca {i}" })).StatusCode);
        var limited = await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = "Luca 4" });
        await limited.Problem(429, "rate_limited");
        Assert.Equal("60", limited.Headers.RetryAfter?.ToString());
        // Another fan has their own allowance.
        Assert.Equal(200, (int)(await app.As("fan").PostAsJsonAsync($"/api/campaigns/{campaignId}/labels/preview", new { text = "Sofia" })).StatusCode);
    }
}
