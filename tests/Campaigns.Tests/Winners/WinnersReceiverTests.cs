using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Campaigns.Tests.Infrastructure;
using static Campaigns.Tests.Winners.WinnersKit;

namespace Campaigns.Tests.Winners;

/// <summary>Winner notices carry fan ids: each brand's go to that brand's receiver, signed with that receiver's secret.</summary>
public sealed class WinnersReceiverTests
{
    private static async Task CommitAsync(HttpClient marketer, string campaign)
    {
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaign}/draws/prize", new { method = "random", pool = "voters", winners = 2, alternates = 0 })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{campaign}/draws/prize/commit", null)).StatusCode);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var i = 0; i < 300 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task Each_workspace_gets_its_own_winners_only_at_its_own_receiver_signed_with_its_own_secret()
    {
        var fakes = new FakeCapabilities();
        var webhook = new WebhookCapture();
        var (app, time) = await StartAsync(fakes, webhook);
        await using var _ = app;
        var now = time.GetUtcNow();

        // Brand B: its own workspace, owner, receiver and campaign.
        var brandB = "b-" + Guid.NewGuid().ToString("N")[..10];
        await TestApp.EnsureWorkspaceAsync(brandB);
        var ownerB = TestApp.ClientFor(app.BaseAddress, brandB, "owner", "owner-" + brandB);
        var marketerB = TestApp.ClientFor(app.BaseAddress, brandB, "marketer", "marketer-" + brandB);
        var setB = await (await ownerB.PutAsJsonAsync($"/api/workspaces/{brandB}/winners-webhook", new { url = "https://crm-b.example/hooks" })).Json();
        var secretB = setB.GetProperty("secret").GetString()!;
        Assert.NotEqual(webhook.Secret, secretB);
        var campaignB = NewId();
        var body = JsonSerializer.SerializeToNode(CampaignBody(campaignB, now, 18, ["CH", "DE"]))!.AsObject();
        body["workspaceId"] = brandB;
        Assert.Equal(201, (int)(await marketerB.PostAsJsonAsync("/api/campaigns", body)).StatusCode);
        Assert.Equal(200, (int)(await marketerB.PostAsync($"/api/campaigns/{campaignB}/publish", null)).StatusCode);

        var campaignA = await CampaignAsync(app, now);
        foreach (var (c, prefix) in new[] { (campaignA, "a"), (campaignB, "b") })
        {
            var fans = Enumerable.Range(0, 4).Select(i => $"fan-{prefix}{i}").ToList();
            foreach (var f in fans) await FanAsync(app, c, f, now);
            fakes.Voters[c] = fans;
        }

        var marketerA = app.As("marketer");
        await CommitAsync(marketerA, campaignA);
        await CommitAsync(marketerB, campaignB);
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(200, (int)(await marketerA.PostAsync($"/api/campaigns/{campaignA}/draws/prize/run", null)).StatusCode);
        Assert.Equal(200, (int)(await marketerB.PostAsync($"/api/campaigns/{campaignB}/draws/prize/run", null)).StatusCode);
        await Eventually(() => webhook.Received.Count >= 4, $"expected 4 deliveries, got {webhook.Received.Count}");
        await Task.Delay(500); // nothing more arrives
        Assert.Equal(4, webhook.Received.Count);
        foreach (var (request, bytes) in webhook.Received)
        {
            var notice = JsonDocument.Parse(bytes).RootElement;
            var toB = notice.GetProperty("campaignId").GetString() == campaignB;
            Assert.Equal(toB ? "https://crm-b.example/hooks" : "https://crm.example/hooks/winners", request.RequestUri!.ToString());
            Assert.StartsWith(toB ? "fan-b" : "fan-a", notice.GetProperty("fanId").GetString());
            var id = request.Headers.GetValues("webhook-id").Single();
            var ts = long.Parse(request.Headers.GetValues("webhook-timestamp").Single());
            Assert.Equal(Episodes.WebhookSafetyApiTests.Sign(toB ? secretB : webhook.Secret!, id, ts, System.Text.Encoding.UTF8.GetString(bytes)),
                request.Headers.GetValues("webhook-signature").Single());
        }
    }

    [Fact]
    public async Task Owners_set_read_rotate_and_remove_the_receiver_and_each_change_is_audited()
    {
        var fakes = new FakeCapabilities();
        var webhook = new WebhookCapture();
        var (app, _) = await StartAsync(fakes, webhook);
        await using var __ = app;
        var owner = app.As("owner");
        var url = $"/api/workspaces/{app.WorkspaceId}/winners-webhook";

        var read = await (await owner.GetAsync(url)).Json();
        Assert.Equal(webhook.Secret, read.GetProperty("primary").GetString());
        // Saving the same URL again keeps the secret (and does not show it again).
        var same = await (await owner.PutAsJsonAsync(url, new { url = "https://crm.example/hooks/winners" })).Json();
        Assert.Equal(JsonValueKind.Null, same.GetProperty("secret").ValueKind);
        Assert.Equal(webhook.Secret, (await (await owner.GetAsync(url)).Json()).GetProperty("primary").GetString());
        // Internal addresses and plain http are refused when saved.
        await (await owner.PutAsJsonAsync(url, new { url = "https://169.254.169.254/latest" })).Problem(400, "validation_failed");
        await (await owner.PutAsJsonAsync(url, new { url = "http://crm.example/hooks" })).Problem(400, "validation_failed");

        async Task<JsonElement> Rotate(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, url + "/rotate") { Content = JsonContent.Create(new { overlapHours = 12 }) };
            request.Headers.Add("Idempotency-Key", key);
            return await (await owner.SendAsync(request)).Json();
        }
        var rotated = await Rotate("r1");
        Assert.Equal(webhook.Secret, rotated.GetProperty("previous").GetString());
        Assert.Equal(rotated.GetProperty("primary").GetString(), (await Rotate("r1")).GetProperty("primary").GetString());

        var removed = await owner.PutAsJsonAsync(url, new { url = (string?)null });
        Assert.Equal(200, (int)removed.StatusCode);
        await (await owner.GetAsync(url)).Problem(404, "webhook_not_set");

        var audit = (await (await owner.GetAsync($"/api/workspaces/{app.WorkspaceId}/audit")).Json()).GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("winners.webhook_set", audit);
        Assert.Contains("winners.webhook_rotated", audit);
        Assert.Contains("winners.webhook_removed", audit);
        // A marketer of the workspace cannot read the secrets.
        await (await app.As("marketer").GetAsync(url)).Problem(403, "forbidden");
    }
}
