using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Episodes;

public sealed record WebhookMessage(string CampaignId, string EpisodeId, int Attempt);

public sealed record WebhookDelivery(string Status, int Attempts, int? LastStatusCode, string? LastError, DateTimeOffset At)
{
    public const string Delivered = "delivered", Retrying = "retrying", DeadLettered = "dead-lettered";
}

/// <summary>The signed body a receiver gets (docs/episodes.md, "Webhooks").</summary>
public sealed record WebhookEvent(string Id, string Type, string CampaignId, DateTimeOffset OccurredAt, PublicEpisode Episode);

/// <summary>Standard-Webhooks-style signature: base64 HMAC-SHA256 over "{id}.{timestamp}.{body}", sent as "v1,&lt;sig&gt;".</summary>
public static class WebhookSignature
{
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    public static bool Verify(string secret, string id, long timestamp, string body, string header, DateTimeOffset now, TimeSpan tolerance)
    {
        if (Math.Abs(now.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(secret, id, timestamp, body));
        return header.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }
}

/// <summary>
/// Outbound "episode.published" webhooks through a queue. A failed delivery is re-sent as a new message that
/// becomes visible after an exponential backoff (the host's own retry has a fixed delay); after the last attempt
/// the message goes to &lt;queue&gt;-deadletter. Storage failures escape so the host retries and poison-queues.
/// </summary>
public sealed class EpisodeWebhooks(StorageClients storage, EpisodeStore store, IHttpClientFactory http, TimeProvider time,
    IOptions<EpisodesOptions> options, ILogger<EpisodeWebhooks> logger)
{
    public const string FunctionName = "EpisodesWebhook", HttpClientName = "episode-webhooks";
    private EpisodesOptions O => options.Value;

    public static string DeliveryKey(string episodeId) => "webhook|" + episodeId;
    public static string EventId(string campaignId, string episodeId) => $"{campaignId}.{episodeId}.published";

    public async Task EnqueueAsync(Episode e, EpisodeSettings? settings, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(O.WebhookSecret)) return;
        if ((settings ?? await store.GetSettingsAsync(e.CampaignId, ct)).WebhookUrl is null) return;
        await Send(new WebhookMessage(e.CampaignId, e.Id, 1), TimeSpan.Zero, ct);
    }

    private Task Send(WebhookMessage m, TimeSpan delay, CancellationToken ct)
        => storage.Queue(O.WebhookQueue).SendMessageAsync(JsonSerializer.Serialize(m, JsonDefaults.Options), delay, cancellationToken: ct);

    public static TimeSpan Backoff(int attempt, int baseSeconds)
        => TimeSpan.FromSeconds(Math.Min(3600, baseSeconds * Math.Pow(2, Math.Max(0, attempt - 1))));

    public async Task HandleAsync(WebhookMessage m, CancellationToken ct)
    {
        var key = DeliveryKey(m.EpisodeId);
        if ((await store.GetDoc<WebhookDelivery>(m.CampaignId, key, ct))?.Doc.Status is WebhookDelivery.Delivered or WebhookDelivery.DeadLettered) return;
        var settings = await store.GetSettingsAsync(m.CampaignId, ct);
        if (settings.WebhookUrl is not { } url || string.IsNullOrEmpty(O.WebhookSecret)) return; // unsubscribed since
        var episode = await store.GetPublishedAsync(m.CampaignId, m.EpisodeId, ct)
            ?? throw new InvalidOperationException($"Episode {m.CampaignId}/{m.EpisodeId} is not published; a webhook cannot be sent.");

        var id = EventId(m.CampaignId, m.EpisodeId);
        var body = JsonSerializer.Serialize(new WebhookEvent(id, "episode.published", m.CampaignId, episode.PublishedAt, episode), JsonDefaults.Options);
        var now = time.GetUtcNow();
        var ts = now.ToUnixTimeSeconds();
        int? status = null;
        string? error = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("webhook-id", id);
            request.Headers.Add("webhook-timestamp", ts.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(O.WebhookSecret, id, ts, body));
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, ct);
            status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                await store.PutDoc(m.CampaignId, key, new WebhookDelivery(WebhookDelivery.Delivered, m.Attempt, status, null, now), ct);
                return;
            }
            error = $"HTTP {status}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The receiver failing is the expected case this queue exists for: schedule the next attempt.
            error = e.GetType().Name + ": " + e.Message;
        }

        if (m.Attempt >= O.WebhookMaxAttempts)
        {
            await storage.Queue(O.WebhookQueue + "-deadletter").SendMessageAsync(JsonSerializer.Serialize(m, JsonDefaults.Options), ct);
            await store.PutDoc(m.CampaignId, key, new WebhookDelivery(WebhookDelivery.DeadLettered, m.Attempt, status, error, now), ct);
            logger.LogError("Webhook {WebhookId} dead-lettered after {Attempts} attempts: {Error}", id, m.Attempt, error);
            return;
        }
        var delay = Backoff(m.Attempt, O.WebhookRetryBaseSeconds);
        await Send(m with { Attempt = m.Attempt + 1 }, delay, ct);
        await store.PutDoc(m.CampaignId, key, new WebhookDelivery(WebhookDelivery.Retrying, m.Attempt, status, error, now), ct);
        logger.LogWarning("Webhook {WebhookId} attempt {Attempt} failed ({Error}); retrying in {Delay}", id, m.Attempt, error, delay);
    }
}
