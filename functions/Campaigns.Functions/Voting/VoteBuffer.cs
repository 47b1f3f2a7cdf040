using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Azure;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

/// <summary>Test seams for crash and throttling scenarios; empty in production.</summary>
public sealed class VotingFaults
{
    /// <summary>Called before each queue send attempt of a batch (attempt 1, 2, …); throw to simulate a failing send.</summary>
    public Func<int, Task>? BeforeSend { get; set; }
    /// <summary>Called after each committed counter transaction with its partition; throw to simulate a crash between steps.</summary>
    public Func<string, Task>? AfterCommit { get; set; }
    /// <summary>Called when the counter starts on a queue message; throw to simulate a counter that keeps failing.</summary>
    public Func<VoteBatch, Task>? BeforeCount { get; set; }
}

/// <summary>
/// Group commit for the accept path: votes from concurrent requests are packed into one queue message per flush,
/// and each request gets its 202 only after the message carrying its vote is stored. One storage operation
/// makes many votes durable; a single message never exceeds the 64 KiB queue limit.
/// </summary>
public sealed class VoteBuffer : IDisposable
{
    private const int MaxItems = 200;
    private const int MaxBytes = 44 * 1024; // Base64 adds a third: stays under 64 KiB.
    private const int BusyBatch = 16;
    private static readonly int[] BackoffMs = [50, 100, 200, 400, 800, 1600];

    private readonly Channel<Pending> _channel = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly StorageClients _storage;
    private readonly VotingOptions _options;
    private readonly VotingFaults _faults;
    private readonly VoteCounter _counter;
    private readonly TimeProvider _time;
    private readonly ILogger<VoteBuffer> _logger;
    private readonly Task[] _workers;

    public VoteBuffer(StorageClients storage, IOptions<VotingOptions> options, VotingFaults faults, VoteCounter counter, TimeProvider time,
        ILogger<VoteBuffer> logger)
    {
        _counter = counter;
        _time = time;
        _storage = storage;
        _options = options.Value;
        _faults = faults;
        _logger = logger;
        _workers = Enumerable.Range(0, _options.FlushConcurrency).Select(_ => Task.Run(FlushLoopAsync)).ToArray();
    }

    /// <summary>Completes when the item is durably stored in the votes queue; throws when it could not be stored.</summary>
    public Task AppendAsync(VoteItem item)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(item, JsonDefaults.Options);
        var pending = new Pending(json, item.Campaign, item.Round, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_channel.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(VoteBuffer));
        return pending.Done.Task;
    }

    private async Task FlushLoopAsync()
    {
        var reader = _channel.Reader;
        var linger = TimeSpan.FromMilliseconds(_options.FlushLingerMs);
        Pending? carry = null;
        var batch = new List<Pending>(MaxItems);
        var size = 0;
        void Take(Pending p)
        {
            if (size + p.Json.Length + 1 > MaxBytes && batch.Count > 0) { carry = p; return; }
            batch.Add(p);
            size += p.Json.Length + 1;
        }
        var busy = false;
        while (carry is not null || await reader.WaitToReadAsync())
        {
            batch.Clear();
            size = 64;
            if (carry is { } c) { carry = null; Take(c); }
            while (batch.Count < MaxItems && carry is null && reader.TryRead(out var p)) Take(p);
            // Under load (the last message was far from empty) wait briefly for more votes, so one message and one
            // counter pass carry more of them; an idle buffer sends at once, adding no latency to a lone vote.
            if (busy && linger > TimeSpan.Zero && batch.Count > 0 && batch.Count < MaxItems && carry is null)
            {
                using var wait = new CancellationTokenSource(linger);
                try
                {
                    while (batch.Count < MaxItems && carry is null && await reader.WaitToReadAsync(wait.Token))
                        while (batch.Count < MaxItems && carry is null && reader.TryRead(out var p)) Take(p);
                }
                catch (OperationCanceledException) { }
            }
            if (batch.Count == 0) continue;
            busy = batch.Count >= BusyBatch;
            try
            {
                await SendAsync(batch);
                foreach (var p in batch) p.Done.TrySetResult();
            }
            catch (Exception e)
            {
                // Not stored: the caller answers 503 and the fan retries (same vote id, so a send that did land counts once).
                _logger.LogWarning(e, "Storing a batch of {Count} votes failed", batch.Count);
                foreach (var p in batch) p.Done.TrySetException(e);
            }
        }
    }

    private async Task SendAsync(List<Pending> batch)
    {
        var batchId = Guid.NewGuid().ToString("N");
        var body = new MemoryStream(batch.Sum(p => p.Json.Length + 1) + 64);
        body.Write(Encoding.UTF8.GetBytes($"{{\"b\":\"{batchId}\",\"v\":["));
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0) body.WriteByte((byte)',');
            body.Write(batch[i].Json);
        }
        body.Write("]}"u8);
        var data = BinaryData.FromBytes(body.ToArray());
        var queue = _storage.Queue(_options.Queue);
        var rounds = batch.Select(p => (p.Campaign, p.Round)).Distinct().ToList();
        // The rounds' backlog rows first: from the moment the message exists, each of its rounds' reveals waits for it.
        await _counter.MarkBacklogAsync(batchId, rounds, _time.GetUtcNow());
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (_faults.BeforeSend is { } fault) await fault(attempt);
                await queue.SendMessageAsync(data);
                return;
            }
            catch (Exception e) when (attempt <= BackoffMs.Length && Transient(e))
            {
                // Throttled (429/503) or a transient failure: back off and try again before giving up on the batch.
                await Task.Delay(BackoffMs[attempt - 1] + Random.Shared.Next(25));
            }
            catch
            {
                // Not stored (the fans get 503): nothing to wait for. A row left by a crash here blocks only that round's
                // reveal until an operator deletes it (docs/voting.md).
                await _counter.ClearBacklogAsync(batchId, rounds);
                throw;
            }
        }
    }

    public static bool Transient(Exception e) => e switch
    {
        RequestFailedException r => r.Status is 0 or 408 or 429 or 500 or 502 or 503 or 504,
        HttpRequestException or TimeoutException or IOException => true,
        _ => false,
    };

    public void Dispose() => _channel.Writer.TryComplete();

    private sealed record Pending(byte[] Json, string Campaign, string Round, TaskCompletionSource Done);
}
