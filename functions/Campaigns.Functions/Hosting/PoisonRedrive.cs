using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues.Models;
using Campaigns.Platform;
using Campaigns.Workspaces;

namespace Campaigns.Hosting;

/// <summary>What to do with one poison message: send it back after a delay, or leave it for a person.</summary>
public sealed record RedriveDecision(bool Move, TimeSpan Delay, int Attempts);

/// <summary>
/// Moves messages from <c>&lt;queue&gt;-poison</c> back to their queue. A message reaches poison after maxDequeueCount
/// failed deliveries; a cause that is fixed later (a deployment, storage back up) should not leave those messages —
/// often votes already acknowledged to fans — stranded. Two ways: an operator's call (after fixing the cause, moves
/// everything) and a timer that moves them back automatically with a growing delay, a bounded number of times per
/// message; after that the message stays in poison (logged as an error) until an operator re-drives it.
///
/// A message is sent to its queue BEFORE it is deleted from poison: a crash in between duplicates it, never loses it
/// (queue handlers are idempotent). Attempts are counted per message content (SHA-256) in the <c>queueredrives</c>
/// table, since a queue message carries no metadata of its own.
/// </summary>
public sealed class PoisonRedrive(StorageClients storage, FunctionCatalog catalog, TimeProvider time, ILogger<PoisonRedrive> logger)
{
    public const string TableName = "queueredrives", TimerName = "QueuesRedrive";
    public const int MaxAutomaticAttempts = 4;
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMinutes(1);
    private const int MaxPerRun = 2000;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private TableClient Table => storage.Table(TableName);

    /// <summary>The program's own trigger queues: the only ones that may be re-driven.</summary>
    public IReadOnlyList<string> Queues => catalog.Functions.Select(f => f.Trigger).OfType<QueueTrigger>().Select(q => q.QueueName).Distinct().ToList();

    /// <summary>
    /// Pure: the n-th automatic re-drive of a message waits 1, 4, 16, 64 minutes (×4 each time, so a cause that lasts is
    /// not hammered); after <see cref="MaxAutomaticAttempts"/> the message stays in poison. An operator always moves it.
    /// </summary>
    public static RedriveDecision Decide(int previousAttempts, bool byOperator)
    {
        if (byOperator) return new RedriveDecision(true, TimeSpan.Zero, previousAttempts);
        if (previousAttempts >= MaxAutomaticAttempts) return new RedriveDecision(false, TimeSpan.Zero, previousAttempts);
        return new RedriveDecision(true, FirstDelay * Math.Pow(4, previousAttempts), previousAttempts + 1);
    }

    /// <summary>Moves the queue's poison messages back; returns how many moved (and how many were left for a person).</summary>
    public async Task<(int Moved, int Left)> RedriveAsync(string queue, bool byOperator, CancellationToken ct)
    {
        var source = storage.Queue(queue + "-poison");
        var target = storage.Queue(queue);
        int moved = 0, left = 0;
        while (moved + left < MaxPerRun)
        {
            // Received messages stay invisible for the lease, so one run sees each message once.
            QueueMessage[] batch = (await source.ReceiveMessagesAsync(32, Lease, ct)).Value;
            if (batch.Length == 0) break;
            foreach (var m in batch)
            {
                var text = m.Body.ToString();
                var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
                var row = await Table.GetEntityIfExistsAsync<TableEntity>(queue, key, cancellationToken: ct);
                var decision = Decide(row.HasValue ? row.Value!.GetInt32("Attempts") ?? 0 : 0, byOperator);
                if (!decision.Move)
                {
                    left++;
                    logger.LogError("Poison message {MessageId} of {Queue} was re-driven {Attempts} times and still fails; it waits for an operator",
                        m.MessageId, queue, decision.Attempts);
                    continue;
                }
                await Table.UpsertEntityAsync(new TableEntity(queue, key) { ["Attempts"] = decision.Attempts, ["At"] = time.GetUtcNow() }, TableUpdateMode.Replace, ct);
                await target.SendMessageAsync(text, visibilityTimeout: decision.Delay, cancellationToken: ct);
                await source.DeleteMessageAsync(m.MessageId, m.PopReceipt, ct);
                moved++;
            }
        }
        if (moved + left > 0)
            logger.LogWarning("Re-drove {Moved} poison messages of {Queue} ({Left} left for an operator; by operator: {ByOperator})", moved, queue, left, byOperator);
        return (moved, left);
    }

    /// <summary>The timer: every known queue's poison messages, with backoff.</summary>
    public async Task RedriveAllAsync(CancellationToken ct)
    {
        foreach (var queue in Queues) await RedriveAsync(queue, byOperator: false, ct);
    }
}

public sealed record RedriveResult(string Queue, int Moved, int Left);

public static class PoisonRedriveApi
{
    public static void AddPoisonRedrive(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddSingleton<PoisonRedrive>();
        s.AddTable(PoisonRedrive.TableName);
        s.AddTimerFunction(PoisonRedrive.TimerName, "45 */5 * * * *", inv => inv.Service<PoisonRedrive>().RedriveAllAsync(inv.Cancellation));
    }

    public static void MapPoisonRedrive(this WebApplication app)
    {
        app.MapGroup("/api/operations/queues").WithTags("Operations")
            .MapPost("/{queue}/redrive", Redrive).Requires(Powers.QueuesRedrive)
            .WithSummary("Move a queue's poison messages back to it, after fixing what made them fail (platform operators).");
    }

    private static async Task<IResult> Redrive(string queue, PoisonRedrive redrive, CancellationToken ct)
    {
        if (!redrive.Queues.Contains(queue)) return ApiProblem.NotFound("unknown_queue", $"Queue '{queue}'").ToResult();
        var (moved, left) = await redrive.RedriveAsync(queue, byOperator: true, ct);
        return TypedResults.Ok(new RedriveResult(queue, moved, left));
    }
}
