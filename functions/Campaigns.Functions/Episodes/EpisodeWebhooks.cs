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

/// <summary>
/// Outbound "episode.published" webhooks through a queue. A failed delivery is re-sent as a new message that
/// becomes visible after an exponential backoff (the host's own retry has a fixed delay); after the last attempt
/// the message goes to &lt;queue&gt;-deadletter. Storage failures escape so the host retries and poison-queues.
/// </summary>
public sealed class EpisodeWebhooks(StorageClients storage, EpisodeStore store, IHttpClientFactory http, TimeProvider time,
    IOptions<EpisodesOptions> options, ILogger<EpisodeWebhooks> logger)
{
    public const string FunctionName = "EpisodesWebhook", HttpClientName = "episode-webhooks";
    /// <summary>Row of the campaign's receiver secrets (<see cref="WebhookSecrets"/>), beside its settings.</summary>
    public const string SecretsKey = "webhook-secrets";
    private EpisodesOptions O => options.Value;

    public static string DeliveryKey(string episodeId) => "webhook|" + episodeId;
    public static string EventId(string campaignId, string episodeId) => $"{campaignId}.{episodeId}.published";

    public async Task EnqueueAsync(Episode e, EpisodeSettings? settings, CancellationToken ct)
    {
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
        if (settings.WebhookUrl is not { } url) return; // unsubscribed since
        // Receivers set before per-receiver secrets have none: nothing can be signed for them until the URL is saved again.
        if ((await store.GetDoc<WebhookSecrets>(m.CampaignId, SecretsKey, ct))?.Doc is not { } secrets)
        {
            logger.LogWarning("Webhook of campaign {CampaignId} has no secret; save its URL again to get one", m.CampaignId);
            return;
        }
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
            StandardWebhook.AddHeaders(request, secrets.Signing(now), id, ts, body);
            // Headers only: the receiver's body is never read (WebhookHttp bounds what could be buffered anyway).
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
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
            // The receiver failing is the expected case this queue exists for: schedule the next attempt. A forbidden
            // address (WebhookHttp) lands here too: it is retried and dead-lettered with its reason, never sent.
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
