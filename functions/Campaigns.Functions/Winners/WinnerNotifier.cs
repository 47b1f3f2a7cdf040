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
public sealed class WinnerNotifier(StorageClients storage, DrawStore store, WinnersReceivers receivers, Campaigns.CampaignStore campaigns,
    IHttpClientFactory http, IOptions<WinnersOptions> options, TimeProvider time)
{
    public const string DefaultQueue = "winners-notify";
    public const string HttpClientName = "winners-webhook";

    /// <summary>
    /// Queues every notification in the draw's outbox, then records them as sent. A crash between the two sends them
    /// again with the same delivery id (webhook-id), which receivers drop; when the campaign's workspace has no winners
    /// receiver they are dropped unsent.
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

    /// <summary>The receiver of the campaign's workspace; null when it has none (notices are then not sent).</summary>
    private async Task<WinnersReceiver?> ReceiverAsync(string campaignId, CancellationToken ct)
        => await campaigns.GetCachedAsync(campaignId, ct) is { WorkspaceId: { } ws } && await receivers.GetAsync(ws, ct) is { } found ? found.Receiver : null;

    private async Task EnqueueAsync(DrawState s, PendingNotice n, CancellationToken ct)
    {
        if (await ReceiverAsync(s.CampaignId, ct) is null) return;
        var notice = new WinnerNotice($"{s.CampaignId}/{s.DrawId}/{n.Position}/{n.Pid[..16]}/{n.Event}", n.Event, s.CampaignId, s.DrawId,
            n.Position, n.Pid, n.FanId, n.EntryId, n.At);
        await storage.Queue(options.Value.NotifyQueue).SendMessageAsync(JsonSerializer.Serialize(notice, JsonDefaults.Options), ct);
    }

    /// <summary>Queue handler: errors escape so the message is retried and, after the limit, parked in the poison queue.</summary>
    public async Task DeliverAsync(FunctionInvocation inv)
    {
        var notice = inv.QueueMessage<WinnerNotice>(JsonDefaults.Options);
        // Read at send time: a receiver removed or moved since the notice was queued gets nothing, the new one gets it.
        if (await ReceiverAsync(notice.CampaignId, inv.Cancellation) is not { } receiver) return;
        var body = JsonSerializer.Serialize(notice, JsonDefaults.Options);
        var now = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Campaigns-Event", notice.Event);
        request.Headers.Add("X-Campaigns-Delivery", notice.DeliveryId);
        // Signed with the send time inside the signed text (Standard Webhooks): receivers refuse old timestamps, so a
        // captured delivery cannot be replayed later; webhook-id (= the delivery id) dedupes retries.
        StandardWebhook.AddHeaders(request, receiver.Secrets.Signing(now), notice.DeliveryId, now.ToUnixTimeSeconds(), body);
        using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, inv.Cancellation);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"Winner webhook answered {(int)response.StatusCode} for {notice.DeliveryId}.");
    }

}
