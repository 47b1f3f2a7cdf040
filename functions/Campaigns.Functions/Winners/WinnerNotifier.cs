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
/// They are recorded in the draw's outbox with the change they announce and sent from there (after the change, and by
/// the scheduler's sweep), so none is lost when the process stops in between.
/// </summary>
public sealed class WinnerNotifier(StorageClients storage, DrawStore store, IHttpClientFactory http, IOptions<WinnersOptions> options, TimeProvider time)
{
    public const string DefaultQueue = "winners-notify";
    public const string HttpClientName = "winners-webhook";

    /// <summary>
    /// Queues every notification in the draw's outbox, then records them as sent. A crash between the two sends them
    /// again with the same delivery id (webhook-id), which receivers drop; without a webhook they are dropped unsent.
    /// </summary>
    public async Task FlushAsync(string campaignId, string drawId, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await store.GetAsync(campaignId, drawId, ct) is not { State.Outbox: { Count: > 0 } outbox } found) return;
            foreach (var n in outbox) await EnqueueAsync(found.State, n, ct);
            try
            {
                await store.SaveAsync(WinnerRules.Sent(found.State, outbox), found.ETag, ct);
                return;
            }
            catch (ProblemException) when (attempt < 3)
            {
                // The draw changed meanwhile (a promotion, a concurrent flush): read it again; repeats are deduped by id.
            }
        }
    }

    private Task EnqueueAsync(DrawState s, PendingNotice n, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(options.Value.WebhookUrl)) return Task.CompletedTask;
        var notice = new WinnerNotice($"{s.CampaignId}/{s.DrawId}/{n.Position}/{n.Pid[..16]}/{n.Event}", n.Event, s.CampaignId, s.DrawId,
            n.Position, n.Pid, n.FanId, n.EntryId, n.At);
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
