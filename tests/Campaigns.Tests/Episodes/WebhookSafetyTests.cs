using System.Net;
using Campaigns.Platform;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace Campaigns.Tests.Episodes;

/// <summary>Address checks as pure functions, and the connect step with an injected resolver (no traffic leaves loopback).</summary>
public sealed class WebhookSafetyTests
{
    [Theory]
    [InlineData("127.0.0.1")] [InlineData("127.255.0.9")] [InlineData("::1")] [InlineData("0.0.0.0")] [InlineData("::")]
    [InlineData("10.0.0.1")] [InlineData("172.16.5.4")] [InlineData("172.31.255.255")] [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")] [InlineData("100.127.255.254")] [InlineData("169.254.169.254")] [InlineData("169.254.0.1")]
    [InlineData("fe80::1")] [InlineData("fc00::1")] [InlineData("fd12:3456::1")] [InlineData("224.0.0.1")] [InlineData("ff02::1")]
    [InlineData("255.255.255.255")] [InlineData("::ffff:127.0.0.1")] [InlineData("::ffff:169.254.169.254")] [InlineData("::ffff:10.0.0.1")]
    [InlineData("::127.0.0.1")] [InlineData("64:ff9b::a9fe:a9fe")]
    public void Internal_addresses_are_forbidden(string ip) => Assert.True(WebhookAddress.IsForbidden(IPAddress.Parse(ip)), ip);

    [Theory]
    [InlineData("93.184.215.14")] [InlineData("8.8.8.8")] [InlineData("172.32.0.1")] [InlineData("100.128.0.1")] [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_allowed(string ip) => Assert.False(WebhookAddress.IsForbidden(IPAddress.Parse(ip)), ip);

    [Fact]
    public void Urls_are_https_without_credentials_and_loopback_http_only_with_the_test_setting()
    {
        Assert.Null(WebhookAddress.CheckUrl("https://hooks.brand.example/x", false));
        Assert.NotNull(WebhookAddress.CheckUrl("http://hooks.brand.example/x", false));
        Assert.NotNull(WebhookAddress.CheckUrl("http://hooks.brand.example/x", true)); // the test setting is loopback only
        Assert.NotNull(WebhookAddress.CheckUrl("https://user:pw@hooks.brand.example/x", false));
        Assert.NotNull(WebhookAddress.CheckUrl("http://127.0.0.1:7071/VoteCounter", false));
        Assert.Null(WebhookAddress.CheckUrl("http://127.0.0.1:7071/hook", true));
        Assert.NotNull(WebhookAddress.CheckUrl("https://10.0.0.1/x", true));
        Assert.NotNull(WebhookAddress.CheckUrl("https://[::ffff:a9fe:a9fe]/x", false));
        Assert.NotNull(WebhookAddress.CheckUrl("ftp://hooks.brand.example/x", false));
    }

    private sealed class FakeDns(params IPAddress[] answer) : IWebhookResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Task.FromResult(answer);
    }

    [Fact]
    public async Task A_name_that_resolves_to_an_internal_address_at_send_time_is_refused_before_connecting()
    {
        // The URL passed the check when saved (a public-looking name); DNS now answers an internal address (rebinding).
        foreach (var answer in new[] { IPAddress.Parse("169.254.169.254"), IPAddress.Parse("10.0.0.7"), IPAddress.Parse("::ffff:192.168.0.1"), IPAddress.Loopback })
        {
            using var client = new HttpClient(WebhookHttp.Handler(new FakeDns(answer), allowLoopback: false));
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("https://hooks.brand.example/x", new StringContent("{}")));
            Assert.Contains("forbidden address", e.ToString());
        }
        // One bad record among good ones refuses the name.
        using var mixed = new HttpClient(WebhookHttp.Handler(new FakeDns(IPAddress.Parse("93.184.215.14"), IPAddress.Parse("10.0.0.7")), allowLoopback: false));
        Assert.Contains("forbidden address", (await Assert.ThrowsAsync<HttpRequestException>(() => mixed.PostAsync("https://hooks.brand.example/x", new StringContent("{}")))).ToString());
    }

    [Fact]
    public async Task The_connection_goes_to_the_address_that_was_checked()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapPost("/hook", (HttpContext h) => Results.Text(h.Request.Host.Host));
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        // The name is resolved by our resolver, checked, and the socket opened to that very address (loopback allowed here).
        using var client = new HttpClient(WebhookHttp.Handler(new FakeDns(IPAddress.Loopback), allowLoopback: true));
        var answer = await client.PostAsync($"http://receiver.test:{port}/hook", new StringContent("{}"));
        Assert.Equal("receiver.test", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Rotation_keeps_the_previous_secret_signing_until_its_time_or_until_removed()
    {
        var t0 = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var s = WebhookSecrets.New(t0);
        Assert.True(StandardWebhook.IsSecret(s.Primary));
        Assert.Equal([s.Primary], s.Signing(t0));
        var next = StandardWebhook.NewSecret();
        var rotated = s.Rotate(next, t0, TimeSpan.FromHours(24));
        Assert.Equal([next, s.Primary], rotated.Signing(t0.AddHours(23)));
        Assert.Equal([next], rotated.Signing(t0.AddHours(24)));
        Assert.Equal([next], rotated.WithoutPrevious().Signing(t0));
        Assert.Equal([next], s.Rotate(next, t0, TimeSpan.Zero).Signing(t0));
        var header = StandardWebhook.Header(rotated.Signing(t0), "id", 1, "{}");
        Assert.True(StandardWebhook.Verify(s.Primary, "id", 1, "{}", header, DateTimeOffset.FromUnixTimeSeconds(1), TimeSpan.FromMinutes(5)));
        Assert.True(StandardWebhook.Verify(next, "id", 1, "{}", header, DateTimeOffset.FromUnixTimeSeconds(1), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void The_azure_start_guard_refuses_http_webhooks_to_loopback_naming_the_setting()
    {
        Assert.Contains(DeploymentGuard.Problems(true, null, "siteverify", "https://brand.example", webhooksAllowHttpLoopback: true), p => p.Contains("Webhooks__AllowHttpLoopback"));
        Assert.Empty(DeploymentGuard.Problems(false, null, "siteverify", "https://brand.example", webhooksAllowHttpLoopback: true));
    }
}
