using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Campaigns.Episodes;
using Campaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace Campaigns.Tests.Episodes;

/// <summary>Webhook URLs cannot reach the service's own network; redirects are not followed; each endpoint has its own secret.</summary>
public sealed class WebhookSafetyApiTests
{
    private static DateTimeOffset Now => new(2027, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Webhook_urls_to_loopback_private_and_metadata_addresses_are_refused_when_saved()
    {
        var settings = EpisodesKit.Settings();
        settings["Webhooks:AllowHttpLoopback"] = "false";
        await using var kit = await EpisodesKit.StartAsync(Now, settings);
        var marketer = kit.As("marketer");
        var c = await kit.CampaignAsync(marketer);
        foreach (var url in new[] { "http://127.0.0.1:7071/VoteCounter", "https://127.0.0.1/hook", "https://localhost/hook", "https://169.254.169.254/latest/meta-data",
                     "https://10.1.2.3/hook", "https://[::ffff:192.168.1.1]/hook", "https://[fd00::1]/hook", "https://100.64.0.1/hook", "http://hooks.example/plain" })
            await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/episode-settings", new { catchUp = "publishLate", webhookUrl = url })).Problem(400, "invalid_webhook_url");
    }

    [Fact]
    public async Task A_redirect_is_a_failed_delivery_not_followed()
    {
        await using var kit = await EpisodesKit.StartAsync(Now);
        await using var target = await Redirector.StartAsync();
        var client = kit.App.Service<IHttpClientFactory>().CreateClient(EpisodeWebhooks.HttpClientName);
        using var response = await client.PostAsync(target.Url("hop"), new StringContent("{}"));
        Assert.Equal(302, (int)response.StatusCode);
        Assert.Equal(0, target.TargetHits);
    }

    [Fact]
    public async Task Each_endpoint_gets_its_own_secret_shown_when_set_and_deliveries_verify_with_it_only()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var kit = await EpisodesKit.StartAsync(Now);
        var marketer = kit.As("marketer");
        var a = await kit.CampaignAsync(marketer);
        var b = await kit.CampaignAsync(marketer);
        var setA = await (await marketer.PutAsJsonAsync($"/api/campaigns/{a}/episode-settings", new { catchUp = "publishLate", webhookUrl = receiver.Url("a") })).Json();
        var setB = await (await marketer.PutAsJsonAsync($"/api/campaigns/{b}/episode-settings", new { catchUp = "publishLate", webhookUrl = receiver.Url("b") })).Json();
        var secretA = setA.GetProperty("webhookSecret").GetString()!;
        var secretB = setB.GetProperty("webhookSecret").GetString()!;
        Assert.StartsWith("whsec_", secretA);
        Assert.NotEqual(secretA, secretB);
        Assert.Equal(32, Convert.FromBase64String(secretA["whsec_".Length..]).Length);
        // Shown once: reading the settings does not carry it; owners and marketers read it from its own route.
        var read = await (await marketer.GetAsync($"/api/campaigns/{a}/episode-settings")).Json();
        Assert.False(read.TryGetProperty("webhookSecret", out var shown) && shown.ValueKind == System.Text.Json.JsonValueKind.String);
        Assert.Equal(secretA, (await (await marketer.GetAsync($"/api/campaigns/{a}/episode-settings/webhook-secrets")).Json()).GetProperty("primary").GetString());
        await (await kit.As("viewer").GetAsync($"/api/campaigns/{a}/episode-settings/webhook-secrets")).Problem(403, "forbidden");

        // Rotation: a new primary, the previous one kept (both sign) until removed.
        var rotated = await (await marketer.PostAsJsonAsync($"/api/campaigns/{a}/episode-settings/webhook-secrets/rotate", new { overlapHours = 48 })).Json();
        Assert.Equal(secretA, rotated.GetProperty("previous").GetString());
        Assert.NotEqual(secretA, rotated.GetProperty("primary").GetString());
        // A rotation retried with its Idempotency-Key (the answer carrying the new secret was lost) is the same rotation:
        // rotating twice would retire the secret receivers still use for one nobody has seen.
        async Task<System.Text.Json.JsonElement> Rotate(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{a}/episode-settings/webhook-secrets/rotate") { Content = JsonContent.Create(new { overlapHours = 48 }) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await marketer.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            return await response.Json();
        }
        var keyed = await Rotate("rotate-2");
        var retried = await Rotate("rotate-2");
        Assert.Equal(keyed.GetProperty("primary").GetString(), retried.GetProperty("primary").GetString());
        Assert.Equal(rotated.GetProperty("primary").GetString(), retried.GetProperty("previous").GetString());
        Assert.NotEqual(keyed.GetProperty("primary").GetString(), (await Rotate("rotate-3")).GetProperty("primary").GetString());
        var ended = await (await marketer.DeleteAsync($"/api/campaigns/{a}/episode-settings/webhook-secrets/previous")).Json();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ended.GetProperty("previous").ValueKind);
        // Saving the same URL again keeps the secret; another URL gets a new one.
        var same = await (await marketer.PutAsJsonAsync($"/api/campaigns/{b}/episode-settings", new { catchUp = "skip", webhookUrl = receiver.Url("b") })).Json();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, same.GetProperty("webhookSecret").ValueKind);
        var moved = await (await marketer.PutAsJsonAsync($"/api/campaigns/{b}/episode-settings", new { catchUp = "skip", webhookUrl = receiver.Url("b2") })).Json();
        Assert.NotEqual(secretB, moved.GetProperty("webhookSecret").GetString());
    }

    /// <summary>Standard Webhooks: key = Base64-decoded part after whsec_.</summary>
    public static string Sign(string secret, string id, long ts, string body)
        => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{id}.{ts}.{body}")));

    private sealed class Redirector : IAsyncDisposable
    {
        private WebApplication _app = null!;
        private Uri _base = null!;
        private int _hits;
        public int TargetHits => _hits;
        public string Url(string path) => new Uri(_base, path).ToString();

        public static async Task<Redirector> StartAsync()
        {
            var self = new Redirector();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            self._app = builder.Build();
            self._app.MapPost("/hop", () => Results.Redirect("/target"));
            self._app.Map("/target", () => { Interlocked.Increment(ref self._hits); return Results.Ok(); });
            await self._app.StartAsync();
            self._base = new Uri(self._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
