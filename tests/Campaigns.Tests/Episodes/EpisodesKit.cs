using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Campaigns.Episodes;
using Campaigns.Hosting;
using Campaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.Episodes;

/// <summary>
/// The real program with a fake clock, its own due index and webhook queue (so test runs sharing Azurite do not
/// see each other's schedules), and helpers to create an episodes campaign.
/// </summary>
internal sealed class EpisodesKit : IAsyncDisposable
{
    private EpisodesKit(TestApp app, FakeTimeProvider time) { App = app; Time = time; }

    public TestApp App { get; }
    public FakeTimeProvider Time { get; }

    public static Dictionary<string, string?> Settings(string? dueTable = null, string? queue = null) => new()
    {
        ["Episodes:DueTable"] = dueTable ?? "due" + Guid.NewGuid().ToString("N")[..12],
        ["Episodes:WebhookQueue"] = queue ?? "ewh-" + Guid.NewGuid().ToString("N")[..12],
        ["Webhooks:AllowHttpLoopback"] = "true", // the local receivers are http on 127.0.0.1
        ["Episodes:WebhookRetryBaseSeconds"] = "0",
    };

    public static async Task<EpisodesKit> StartAsync(DateTimeOffset now, Dictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? customize = null, FakeTimeProvider? time = null)
    {
        time ??= new FakeTimeProvider(now);
        var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddSingleton(new HostQueueSettings(16, 8, TimeSpan.FromMilliseconds(200), TimeSpan.Zero, 5));
            customize?.Invoke(b);
        }, settings ?? Settings());
        var kit = new EpisodesKit(app, time);
        await kit.Tick(time.GetUtcNow()); // the service was already running: the scheduler's cursor starts here
        return kit;
    }

    /// <summary>Tokens valid across the fake clock's years (the clock is set to 2027 dates).</summary>
    public HttpClient As(string role, string? subject = null)
    {
        return TestApp.ClientFor(App.BaseAddress, App.WorkspaceId, role, subject ?? $"{role}-{Guid.NewGuid():N}", TimeSpan.FromDays(3650),
            DateTimeOffset.UtcNow.AddDays(-1500));
    }

    /// <summary>Moves the clock to <paramref name="now"/> (never back) and runs one scheduler tick there, as the timer would.</summary>
    public Task<TickReport> Tick(DateTimeOffset now)
    {
        lock (Time) { if (now > Time.GetUtcNow()) Time.SetUtcNow(now); }
        return App.Service<EpisodeScheduler>().TickAsync(now, CancellationToken.None);
    }

    public static object Window(DateTimeOffset start, DateTimeOffset end) => new { start, end };

    /// <summary>A published campaign in Europe/Zurich running episodes.</summary>
    public async Task<string> CampaignAsync(HttpClient marketer, object? windows = null, string[]? features = null)
    {
        var id = "ep-" + Guid.NewGuid().ToString("N")[..12];
        var created = await marketer.PostAsJsonAsync("/api/campaigns", new
        {
            id, name = "La série", brand = "Watchmaker", timeZone = "Europe/Zurich", locales = new[] { "fr", "en" },
            features = features ?? ["episodes"],
            windows = windows ?? new { publish = Window(new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2027, 12, 31, 0, 0, 0, TimeSpan.Zero)) },
        });
        Assert.Equal(201, (int)created.StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        return id;
    }

    public static async Task<string> SeriesAsync(HttpClient marketer, string campaignId, object body)
    {
        var r = await marketer.PostAsJsonAsync($"/api/campaigns/{campaignId}/series", body);
        var json = await r.Json();
        Assert.True(201 == (int)r.StatusCode, json.ToString());
        return json.GetProperty("series").GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> EpisodeAsync(HttpClient marketer, string campaignId, string seriesId, string title, bool schedule = true, object? extra = null)
    {
        var r = await marketer.PostAsJsonAsync($"/api/campaigns/{campaignId}/series/{seriesId}/episodes",
            extra ?? new { content = new Dictionary<string, object> { ["fr"] = new { title, body = "Il était une fois…", quote = "Le temps", quoteCredit = "Fondateur" } } });
        var json = await r.Json();
        Assert.True(201 == (int)r.StatusCode, json.ToString());
        if (!schedule) return json;
        var s = await marketer.PostAsync($"/api/campaigns/{campaignId}/episodes/{json.GetProperty("id").GetString()}/schedule", null);
        var scheduled = await s.Json();
        Assert.True(200 == (int)s.StatusCode, scheduled.ToString());
        Assert.Equal("scheduled", scheduled.GetProperty("state").GetString());
        return scheduled;
    }

    public static async Task<List<JsonElement>> FeedAsync(HttpClient client, string campaignId)
    {
        var all = new List<JsonElement>();
        string? continuation = null;
        do
        {
            var url = $"/api/public/campaigns/{campaignId}/episodes?pageSize=100" + (continuation is null ? "" : "&continuation=" + continuation);
            var page = await (await client.GetAsync(url)).Json();
            all.AddRange(page.GetProperty("items").EnumerateArray());
            continuation = page.GetProperty("continuation").ValueKind == JsonValueKind.String ? page.GetProperty("continuation").GetString() : null;
        } while (continuation is not null);
        return all;
    }

    public static async Task WaitFor(Func<bool> condition, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}

/// <summary>A webhook receiver on 127.0.0.1 that checks signatures independently and can be told to fail.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Delivery(string Path, string Id, long Timestamp, string Body, bool SignatureValid, int Answered);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();

    private WebhookReceiver(WebApplication app, Uri baseUri) { _app = app; Base = baseUri; }

    public Uri Base { get; }
    public ConcurrentQueue<Delivery> Deliveries { get; } = new();
    /// <summary>Path → how many first calls answer 500 (int.MaxValue: always).</summary>
    public ConcurrentDictionary<string, int> FailFirst { get; } = new();

    public string Url(string path) => new Uri(Base, path).ToString();

    /// <summary>Path → the receiver's secret, as the PUT that set the URL answered it.</summary>
    public ConcurrentDictionary<string, string> Secrets { get; } = new();

    public static string ExpectedSignature(string secret, string id, long ts, string body) => WebhookSafetyApiTests.Sign(secret, id, ts, body);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.MapPost("/{path}", async (string path, HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var id = http.Request.Headers["webhook-id"].ToString();
            var ts = long.Parse(http.Request.Headers["webhook-timestamp"].ToString());
            var sig = http.Request.Headers["webhook-signature"].ToString();
            var n = self!._calls.AddOrUpdate(path, 1, (_, c) => c + 1);
            var fail = self.FailFirst.TryGetValue(path, out var f) && n <= f;
            var status = fail ? 500 : 200;
            var secret = self.Secrets.TryGetValue(path, out var s) ? s : null;
            self.Deliveries.Enqueue(new Delivery(path, id, ts, body, secret is not null && sig.Split(' ').Contains(ExpectedSignature(secret, id, ts, body)), status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new WebhookReceiver(app, new Uri(address + "/"));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
