using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Hosting;

/// <summary>
/// Standalone mode: polls every queue a queueTrigger function names, the way the Functions host does
/// (batch size, visibility timeout, maxDequeueCount → &lt;queue&gt;-poison), and invokes the same handler path.
/// </summary>
public sealed class StandaloneQueuePoller(
    FunctionCatalog catalog, FunctionInvoker invoker, StorageClients storage, HostQueueSettings settings,
    IOptions<HostingOptions> hosting, ILogger<StandaloneQueuePoller> logger) : BackgroundService
{
    // While a handler runs the message stays invisible (Hosting__QueueLeaseSeconds, 5 min by default); on failure it
    // comes back after host.json's visibilityTimeout, and if the process dies when the lease runs out.
    private readonly TimeSpan _lease = TimeSpan.FromSeconds(hosting.Value.QueueLeaseSeconds);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!hosting.Value.Standalone) return Task.CompletedTask;
        var loops = catalog.Functions
            .Where(f => f.Trigger is QueueTrigger)
            .Select(f => Task.Run(() => PollAsync(f, stoppingToken), CancellationToken.None))
            .ToArray();
        return Task.WhenAll(loops);
    }

    private async Task PollAsync(FunctionDefinition function, CancellationToken stopping)
    {
        var trigger = (QueueTrigger)function.Trigger;
        var queue = storage.Queue(trigger.QueueName);
        var poison = storage.Queue(trigger.QueueName + "-poison");
        var idle = TimeSpan.FromMilliseconds(50);
        // Like the host: up to batchSize messages per receive, and the next receive as soon as no more than
        // newBatchThreshold are still being handled (so at most batchSize + newBatchThreshold run at once).
        var inFlight = new HashSet<Task>();
        logger.LogInformation("Standalone trigger polling queue {Queue} for {FunctionName}", trigger.QueueName, function.Name);
        while (!stopping.IsCancellationRequested)
        {
            inFlight.RemoveWhere(t => t.IsCompleted);
            if (inFlight.Count > settings.NewBatchThreshold)
            {
                try { await Task.WhenAny(inFlight).WaitAsync(stopping); } catch (OperationCanceledException) { break; }
                continue;
            }
            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(settings.BatchSize, _lease, stopping)).Value;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                logger.LogWarning(e, "Receiving from {Queue} failed; retrying", trigger.QueueName);
                await Delay(TimeSpan.FromSeconds(1), stopping);
                continue;
            }

            if (batch.Length == 0)
            {
                await Delay(idle, stopping);
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, settings.MaxPollingInterval.Ticks));
                continue;
            }
            idle = TimeSpan.FromMilliseconds(50);
            // In-flight handlers are not cancelled by shutdown: each finishes (or fails and is released) so nothing is lost.
            foreach (var m in batch) inFlight.Add(HandleAsync(function, queue, poison, m));
        }
        await Task.WhenAll(inFlight);
    }

    private async Task HandleAsync(FunctionDefinition function, QueueClient queue, QueueClient poison, QueueMessage message)
    {
        var text = message.Body.ToString();
        var payload = FunctionInvoker.QueuePayload(function, text, message.MessageId, message.DequeueCount,
            message.InsertedOn, message.ExpiresOn, message.PopReceipt);
        var result = await invoker.InvokeAsync(function.Name, payload, null, CancellationToken.None);
        try
        {
            if (result.Succeeded)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
            else if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await poison.SendMessageAsync(text);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                logger.LogError("Message {MessageId} from {Queue} moved to poison queue after {DequeueCount} attempts",
                    message.MessageId, queue.Name, message.DequeueCount);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout);
            }
        }
        catch (Exception e)
        {
            // The lease expires on its own and the message is delivered again; handlers are idempotent.
            logger.LogWarning(e, "Settling message {MessageId} on {Queue} failed", message.MessageId, queue.Name);
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken ct)
    {
        try { await Task.Delay(delay, ct); } catch (OperationCanceledException) { }
    }
}
