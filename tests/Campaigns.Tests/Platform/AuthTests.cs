using Campaigns.Platform;
using System.Net.Http.Headers;
using Campaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;

namespace Campaigns.Tests.Platform;

public sealed class AuthTests
{
    [Fact]
    public void Every_endpoint_declares_who_may_call_it()
    {
        var app = CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(TestApp.Settings(Azurite.Instance)));
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        Assert.True(endpoints.Count > 5);
        var undeclared = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is not null))
            .Select(e => $"{string.Join(',', e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? [])} {e.RoutePattern.RawText}")
            .ToList();
        Assert.True(undeclared.Count == 0, "Endpoints without an explicit policy: " + string.Join("; ", undeclared));
    }

    [Fact]
    public async Task Missing_expired_wrong_audience_and_forged_tokens_get_401_and_wrong_role_403()
    {
        await using var app = await TestApp.StartAsync();
        await (await app.Client.GetAsync("/api/campaigns")).Problem(401, "unauthorized");

        async Task<HttpResponseMessage> With(string token)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "/api/campaigns");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await app.Client.SendAsync(req);
        }

        var expired = TestApp.Token("marketer", "m1", TimeSpan.FromMinutes(5), now: DateTimeOffset.UtcNow.AddHours(-2));
        await (await With(expired)).Problem(401, "unauthorized");
        await (await With(TestApp.Token("marketer", "m1", audience: "another-api"))).Problem(401, "unauthorized");
        var forged = DevTokens.Mint(new AuthOptions
            { Audience = TestApp.Audience, DevSigningKey = "some-other-key-that-is-long-enough-0123456789" }, "admin", "x", TimeSpan.FromHours(1), DateTimeOffset.UtcNow);
        await (await With(forged)).Problem(401, "unauthorized");
        await (await With(TestApp.Token("fan", "f1"))).Problem(403, "forbidden");
        Assert.Equal(200, (int)(await With(TestApp.Token("moderator", "mod1"))).StatusCode);
    }

    [Fact]
    public async Task Trigger_invocation_endpoints_are_not_open_to_tokens_but_to_the_loopback_host()
    {
        await using var app = await TestApp.StartAsync();
        // Loopback caller (the host) is allowed; the health endpoint and the root answer anonymously.
        Assert.Equal(200, (int)(await app.Client.GetAsync("/")).StatusCode);
        var health = await app.Client.GetAsync("/api/health");
        Assert.Equal(200, (int)health.StatusCode);
        var body = await health.Json();
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("ok", body.GetProperty("checks").GetProperty("tables").GetString());
    }
}
