using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.DataRights;
using Campaigns.Tests.Infrastructure;
using Campaigns.Winners;
using Microsoft.Extensions.Options;

namespace Campaigns.Tests.DataRights;

public sealed class ExportTests
{
    [Fact]
    public async Task The_export_holds_every_kind_of_record_the_fan_produced_and_staff_get_the_same_for_their_workspace_audited()
    {
        var (app, time) = await DataRightsKit.StartAsync();
        await using var _ = app;
        var f = await DataRightsKit.FootprintAsync(app, time);

        Assert.True(await app.Service<global::Campaigns.Episodes.EngagementStore>().ReactAsync(f.CampaignId, "ep-1", f.FanId, "2026-12-04", time.GetUtcNow(), default));

        var doc = await (await f.Fan.GetAsync("/api/me/export")).Json();
        Assert.Equal("campaigns-fan-export/1", doc.GetProperty("format").GetString());
        Assert.Equal(f.FanId, doc.GetProperty("fanId").GetString());
        Assert.Equal("Name " + f.FanId, doc.GetProperty("profile").GetProperty("displayName").GetString());

        var consent = Assert.Single(doc.GetProperty("consents").EnumerateArray());
        Assert.Equal("r1", consent.GetProperty("rulesVersion").GetString());
        Assert.True(consent.GetProperty("marketingOptIn").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, consent.GetProperty("rulesAcceptedAt").ValueKind);

        var vote = Assert.Single(doc.GetProperty("votes").EnumerateArray());
        Assert.True(vote.GetProperty("counted").GetBoolean());
        Assert.Equal("red", vote.GetProperty("choices").GetProperty("colour").GetString());
        var refusal = Assert.Single(doc.GetProperty("refusals").EnumerateArray());
        Assert.Equal("duplicate", refusal.GetProperty("reason").GetString());
        Assert.Equal("blue", refusal.GetProperty("choices").GetProperty("colour").GetString());

        var entries = doc.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        var photo = entries.Single(e => e.GetProperty("entryId").GetString() == f.PhotoEntryId);
        Assert.Equal(f.Caption, photo.GetProperty("text").GetString());
        var small = photo.GetProperty("media").GetProperty("small").GetString()!;
        Assert.Contains("sig=", small); // a read URL that expires, not the public (lasting) link
        Assert.NotEqual(f.PublicSmallUrl, small);
        // Read-only, for the derivatives, expiring with the document's stated instant (the fake clock runs ahead of Azurite's, so it is not fetched).
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(small).Query);
        Assert.Equal("r", query["sp"]);
        Assert.Contains("/submission-derivatives/", small);
        Assert.Equal(time.GetUtcNow().Add(FanExport.MediaLinkLifetime).ToUnixTimeSeconds(), DateTimeOffset.Parse(query["se"]!).ToUnixTimeSeconds());
        Assert.Equal(time.GetUtcNow().Add(FanExport.MediaLinkLifetime), doc.GetProperty("mediaLinksExpireAt").GetDateTimeOffset());

        var order = Assert.Single(doc.GetProperty("labelOrders").EnumerateArray());
        Assert.Equal(f.LabelText, order.GetProperty("text").GetString());
        Assert.Equal("in_print_batch", order.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, order.GetProperty("batchId").ValueKind);

        var draw = Assert.Single(doc.GetProperty("draws").EnumerateArray());
        var pid = DrawAlgorithm.Pseudonym(app.Service<IOptions<WinnersOptions>>().Value.PseudonymKeyBytes, f.CampaignId, f.FanId);
        Assert.Equal(pid, draw.GetProperty("pid").GetString());
        Assert.True(draw.GetProperty("eligible").GetBoolean());
        Assert.True(draw.GetProperty("alternate").GetBoolean() || draw.GetProperty("win").ValueKind == JsonValueKind.Object);

        Assert.Equal("ep-1", Assert.Single(doc.GetProperty("reactions").EnumerateArray()).GetProperty("episodeId").GetString());

        // Another fan's export holds none of this.
        var otherDoc = await (await app.As("fan", f.OtherFans[0]).GetAsync("/api/me/export")).Json();
        Assert.DoesNotContain(f.FanId, otherDoc.ToString());
        Assert.Empty(otherDoc.GetProperty("entries").EnumerateArray());

        // Staff answer the same request for their workspace: the campaign data, not the platform-wide profile; audited
        // under a one-way reference, so the audit trail does not itself keep the fan id.
        var owner = app.As("owner");
        var staff = await (await owner.PostAsJsonAsync($"/api/campaigns/{f.CampaignId}/data-requests/export", new { fanId = f.FanId })).Json();
        Assert.Equal(JsonValueKind.Null, staff.GetProperty("profile").ValueKind);
        Assert.Equal(2, staff.GetProperty("entries").GetArrayLength());
        Assert.Single(staff.GetProperty("votes").EnumerateArray());
        Assert.Single(staff.GetProperty("draws").EnumerateArray());
        var audit = (await (await owner.GetAsync($"/api/workspaces/{app.WorkspaceId}/audit")).Json()).ToString();
        Assert.Contains("fan_data.exported", audit);
        Assert.Contains(FanRef.Of(f.FanId), audit);
        Assert.DoesNotContain(f.FanId, audit);
        await (await owner.PostAsJsonAsync($"/api/campaigns/{f.CampaignId}/data-requests/export", new { fanId = "" })).Problem(400, "validation_failed");
    }

    [Fact]
    public async Task A_workspace_erasure_removes_the_fan_from_its_campaigns_and_leaves_only_the_platform_profile()
    {
        var (app, time) = await DataRightsKit.StartAsync();
        await using var _ = app;
        var f = await DataRightsKit.FootprintAsync(app, time);
        var owner = app.As("owner");

        var requested = await owner.PostAsJsonAsync($"/api/campaigns/{f.CampaignId}/data-requests/erasure", new { fanId = f.FanId });
        Assert.Equal(202, (int)requested.StatusCode);
        var location = requested.Headers.Location!.ToString();
        await DataRightsKit.WaitErasedAsync(() => owner.GetAsync(location), run: 1);
        // Another workspace cannot read the job.
        var outsider = "ox-" + Guid.NewGuid().ToString("N")[..10];
        await TestApp.EnsureWorkspaceAsync(outsider);
        Assert.Equal(404, (int)(await TestApp.ClientFor(app.BaseAddress, outsider, "owner", "outsider-owner").GetAsync(location)).StatusCode);

        var hits = await StorageScan.FindAsync(app, f.FanId, f.LabelText, f.Caption);
        var profile = $"table fans: {f.FanId} / profile";
        Assert.True(hits.All(h => h == profile), "Left after the workspace erasure:\n" + string.Join("\n", hits));
        Assert.Equal(200, (int)(await f.Fan.GetAsync("/api/me/profile")).StatusCode);
        var audit = (await (await owner.GetAsync($"/api/workspaces/{app.WorkspaceId}/audit")).Json()).ToString();
        Assert.Contains("fan_data.erasure_requested", audit);
        Assert.DoesNotContain(f.FanId, audit);
    }
}
