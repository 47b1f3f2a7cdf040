using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Submissions;

/// <summary>Stands in for Moderation's review queue: records what Submissions sends (shared by every app of the run).</summary>
public sealed class RecordingReviewQueue : IReviewQueue
{
    public static readonly ConcurrentDictionary<string, ReviewRequest> Seen = new();
    public Task EnqueueAsync(ReviewRequest request, CancellationToken ct)
    {
        Seen[request.EntryId] = request;
        return Task.CompletedTask;
    }
}

public static class Submit
{
    public static Action<WebApplicationBuilder> WithReviewQueue(Action<WebApplicationBuilder>? more = null) => b =>
    {
        b.Services.AddSingleton<IReviewQueue, RecordingReviewQueue>();
        more?.Invoke(b);
    };

    public static string NewCampaignId() => "sub-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A published campaign with rules r1 whose entry window is open at <paramref name="now"/>.</summary>
    public static async Task<string> CampaignAsync(HttpClient marketer, DateTimeOffset now, string[]? features = null, bool publish = true,
        bool entryOpen = true, object? eligibility = null)
    {
        var id = NewCampaignId();
        var entryStart = entryOpen ? now.AddDays(-1) : now.AddDays(-5);
        var entryEnd = entryOpen ? now.AddDays(20) : now.AddDays(-2);
        var created = await marketer.PostAsJsonAsync("/api/campaigns", new
        {
            id, name = "Fan stories", brand = "Spread", timeZone = "Europe/Rome", locales = new[] { "en", "fr", "it" },
            features = features ?? ["submissions"],
            windows = new
            {
                publish = new { start = now.AddDays(-10), end = now.AddDays(30) },
                entry = new { start = entryStart, end = entryEnd },
            },
            rules = new { version = "r1", text = new Dictionary<string, string> { ["en"] = "Be nice." } },
            eligibility,
        });
        Assert.Equal(201, (int)created.StatusCode);
        if (publish) Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        return id;
    }

    public static object Consent => new { rulesVersion = "r1", rightsGrant = true, ageConfirmed = true, marketingOptIn = false };

    public static object Photo(long size, string contentType = "image/jpeg", string? caption = "My breakfast") =>
        new { kind = "photo", locale = "en", text = caption, consent = Consent, upload = new { contentType, size } };

    /// <summary>Creates a submission and returns (entry id, upload URL or null).</summary>
    public static async Task<(string EntryId, string? UploadUrl, JsonElement Body)> CreateAsync(HttpClient fan, string campaignId, object body)
    {
        var r = await fan.PostAsJsonAsync($"/api/campaigns/{campaignId}/submissions", body);
        var json = await r.Json();
        Assert.True(201 == (int)r.StatusCode, json.ToString());
        var id = json.GetProperty("submission").GetProperty("entryId").GetString()!;
        var upload = json.TryGetProperty("upload", out var u) && u.ValueKind == JsonValueKind.Object ? u.GetProperty("url").GetString() : null;
        return (id, upload, json);
    }

    public static async Task<HttpResponseMessage> PutBlobAsync(string url, byte[] bytes, string contentType = "image/jpeg", string? origin = null)
    {
        using var http = new HttpClient();
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(bytes) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        if (origin is not null) put.Headers.Add("Origin", origin);
        put.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await http.SendAsync(put);
    }

    public static Task<HttpResponseMessage> CompleteAsync(HttpClient fan, string campaignId, string entryId)
        => fan.PostAsync($"/api/campaigns/{campaignId}/submissions/{entryId}/complete", null);

    /// <summary>Polls the fan's own view until the status leaves "processing" (bounded: about 40 s).</summary>
    public static async Task<JsonElement> WaitProcessedAsync(HttpClient fan, string campaignId, string entryId)
    {
        JsonElement last = default;
        for (var i = 0; i < 200; i++)
        {
            last = await (await fan.GetAsync($"/api/me/submissions/{campaignId}/{entryId}")).Json();
            if (last.GetProperty("status").GetString() != "processing") return last;
            await Task.Delay(200);
        }
        return last;
    }
}

/// <summary>Stands in for Moderation's blocklist: fans whose id starts with "blocked-" are blocked everywhere.</summary>
public sealed class PrefixBlocklist : IFanBlocklist
{
    public Task<bool> IsBlockedAsync(string campaignId, string fanId, CancellationToken ct) => Task.FromResult(fanId.StartsWith("blocked-", StringComparison.Ordinal));
}
