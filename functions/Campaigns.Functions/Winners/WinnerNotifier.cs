using System.Text;
using System.Text.Json;
using Campaigns.Hosting;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Winners;

/// <summary>A webhook delivery: the brand's CRM receives it and contacts the winner (it knows the fan by id).</summary>
public sealed record WinnerNotice(string DeliveryId, string Event, string CampaignId, string DrawId, int Position, string Pid,
    string FanId, string? EntryId, DateTimeOffset At);

/// <summary>
/// Winner notifications go through a queue so a slow or failing webhook never blocks the draw and is retried;
/// receivers dedupe on webhook-id (the same delivery can arrive twice). A 3xx is a failure: redirects are not followed.
/// </summary>
public sealed class WinnerNotifier(StorageClients storage, IHttpClientFactory http, IOptions<WinnersOptions> options, TimeProvider time)
{
    public const string DefaultQueue = "winners-notify";
    public const string HttpClientName = "winners-webhook";

    public Task EnqueueAsync(DrawState s, WinnerSlot slot, string evt, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(options.Value.WebhookUrl)) return Task.CompletedTask;
        var notice = new WinnerNotice($"{s.CampaignId}/{s.DrawId}/{slot.Position}/{slot.Pid[..16]}/{evt}", evt, s.CampaignId, s.DrawId,
            slot.Position, slot.Pid, slot.FanId, slot.EntryId, time.GetUtcNow());
        return storage.Queue(options.Value.NotifyQueue).SendMessageAsync(JsonSerializer.Serialize(notice, JsonDefaults.Options), ct);
    }

    /// <summary>Queue handler: errors escape so the message is retried and, after the limit, parked in the poison queue.</summary>
    public async Task DeliverAsync(FunctionInvocation inv)
    {
        var notice = inv.QueueMessage<WinnerNotice>(JsonDefaults.Options);
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.WebhookUrl)) return;
        var body = JsonSerializer.Serialize(notice, JsonDefaults.Options);
        using var request = new HttpRequestMessage(HttpMethod.Post, o.WebhookUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Campaigns-Event", notice.Event);
        request.Headers.Add("X-Campaigns-Delivery", notice.DeliveryId);
        // Signed with the send time inside the signed text (Standard Webhooks): receivers refuse old timestamps, so a
        // captured delivery cannot be replayed later; webhook-id (= the delivery id) dedupes retries.
        StandardWebhook.AddHeaders(request, [o.WebhookSecret!], notice.DeliveryId, time.GetUtcNow().ToUnixTimeSeconds(), body);
        using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, inv.Cancellation);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"Winner webhook answered {(int)response.StatusCode} for {notice.DeliveryId}.");
    }

}
