using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Campaigns.Tests.Infrastructure;

/// <summary>The real program on a free loopback port, against the shared Azurite, driven over HTTP.</summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string DevKey = "test-dev-signing-key-0123456789abcdef-0123456789";
    public const string Audience = "campaigns-api";

    private TestApp(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => App.Services;
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public static Dictionary<string, string?> Settings(Azurite azurite) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["Auth:Audience"] = Audience,
        ["Auth:Issuer"] = "campaigns-dev",
        ["Auth:DevSigningKey"] = DevKey,
        ["Telemetry:Exporter"] = "none",
        ["Logging:LogLevel:Default"] = "Warning",
        // Each app gets its own work queues: apps of parallel tests share one Azurite, and a shared queue would let one
        // app's triggers take another's messages into its own (differently faked) capabilities.
        ["Submissions:ImagesQueue"] = "images-" + Guid.NewGuid().ToString("N")[..12],
        ["Voting:Queue"] = "votes-" + Guid.NewGuid().ToString("N")[..12],
        ["Winners:NotifyQueue"] = "notify-" + Guid.NewGuid().ToString("N")[..12],
        ["Episodes:WebhookQueue"] = "ewh-" + Guid.NewGuid().ToString("N")[..12],
    };

    public static async Task<TestApp> StartAsync(Action<WebApplicationBuilder>? customize = null,
        IDictionary<string, string?>? settings = null)
    {
        var azurite = Azurite.Instance;
        var app = CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            var all = Settings(azurite);
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
            builder.Configuration.AddInMemoryCollection(all);
            customize?.Invoke(builder);
            // An app on a fake clock fires its tests' handlers explicitly. Its standalone timers would run every sweep
            // (slot expiry, print batches, …) at the fake instant over tables shared with the other tests' apps.
            var clock = builder.Services.LastOrDefault(d => d.ServiceType == typeof(TimeProvider));
            if (clock?.ImplementationInstance is { } instance && !ReferenceEquals(instance, TimeProvider.System))
                foreach (var d in builder.Services.Where(d => d.ImplementationType == typeof(global::Campaigns.Hosting.StandaloneTimers)).ToList())
                    builder.Services.Remove(d);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestApp(app, new Uri(address));
    }

    public static string Token(string role, string subject, TimeSpan? lifetime = null, string audience = Audience, DateTimeOffset? now = null)
        => DevTokens.Mint(new AuthOptions { Audience = audience, DevSigningKey = DevKey, Issuer = "campaigns-dev" }, role, subject,
            lifetime ?? TimeSpan.FromHours(1), now ?? DateTimeOffset.UtcNow);

    /// <summary>A client that sends a bearer token for the role and subject.</summary>
    public HttpClient As(string role, string? subject = null)
    {
        var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(role, subject ?? $"{role}-{Guid.NewGuid():N}"));
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public static class HttpAssert
{
    public static async Task<JsonElement> Json(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status and, for errors, an RFC 9457 body with the stable code.</summary>
    public static async Task<JsonElement> Problem(this HttpResponseMessage response, int status, string code)
    {
        var body = await response.Json();
        Assert.True((int)response.StatusCode == status, $"expected {status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        return body;
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient c, string url, object body) => c.PostAsJsonAsync(url, body);

    public static Task<HttpResponseMessage> PostRaw(this HttpClient c, string url, string body, string contentType = "application/json")
        => c.PostAsync(url, new StringContent(body, System.Text.Encoding.UTF8, contentType));
}
