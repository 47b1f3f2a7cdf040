using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Queues;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Hosting;

/// <summary>The host's payload shapes, and standalone queue and timer triggers against real Azurite.</summary>
public sealed class InvocationTests
{
    private sealed record Probe(string Text, long DequeueCount, string Function);

    private static (string Echo, string Fails, string Timer, string Slow) Names()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        return ($"echo-{id}", $"fails-{id}", $"timer-{id}", $"slow-{id}");
    }

    /// <summary>An app with test functions: an echo queue, a queue whose handler always fails, and a 1-second timer.</summary>
    private static Task<TestApp> StartWithTestFunctions(ConcurrentQueue<Probe> seen, (string Echo, string Fails, string Timer, string Slow) n,
        HostQueueSettings? queueSettings = null)
        => TestApp.StartAsync(b =>
        {
            b.Services.AddQueueFunction("TestEcho", n.Echo, inv =>
            {
                seen.Enqueue(new Probe(inv.QueueMessageText(), inv.DequeueCount, "TestEcho"));
                return Task.CompletedTask;
            });
            b.Services.AddQueueFunction("TestFails", n.Fails, inv =>
            {
                seen.Enqueue(new Probe(inv.QueueMessageText(), inv.DequeueCount, "TestFails"));
                throw new InvalidOperationException("always fails");
            });
            b.Services.AddQueueFunction("TestSlow", n.Slow, async inv =>
            {
                seen.Enqueue(new Probe("started:" + inv.QueueMessageText(), inv.DequeueCount, "TestSlow"));
                await Task.Delay(1500, CancellationToken.None);
                seen.Enqueue(new Probe("finished:" + inv.QueueMessageText(), inv.DequeueCount, "TestSlow"));
            });
            b.Services.AddTimerFunction("TestTimer", "* * * * * *", inv =>
            {
                var info = inv.Timer();
                seen.Enqueue(new Probe($"{info.IsPastDue}|{info.Next:O}", 0, "TestTimer"));
                return Task.CompletedTask;
            });
            b.Services.AddSingleton(queueSettings ?? new HostQueueSettings(16, 8, TimeSpan.FromMilliseconds(200), TimeSpan.Zero, 3));
        });

    private static async Task WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Host_payloads_in_both_string_encodings_reach_the_same_handler()
    {
        var seen = new ConcurrentQueue<Probe>();
        await using var app = await StartWithTestFunctions(seen, Names(), new HostQueueSettings(16, 8, TimeSpan.FromSeconds(2), TimeSpan.Zero, 3));
        var message = """{"campaignId":"c-1","votes":3}""";

        // Shape 1: the message as a JSON string, encoded twice by the host's JsonConvert; numbers as strings.
        var doubleEncoded = JsonSerializer.Serialize(new
        {
            Data = new { message = JsonSerializer.Serialize(JsonSerializer.Serialize(message)) },
            Metadata = new { DequeueCount = "2", Id = "\"abc\"", PopReceipt = "\"x\"" },
        });
        var r1 = await app.InvokeAsync("TestEcho", doubleEncoded);
        Assert.Equal(200, (int)r1.StatusCode);
        var body = await r1.Json();
        Assert.True(body.TryGetProperty("Outputs", out _));
        Assert.Equal(JsonValueKind.Array, body.GetProperty("Logs").ValueKind);

        // Shape 2: the message as a JSON object, DequeueCount as a number.
        var asObject = "{\"Data\":{\"message\":" + message + "},\"Metadata\":{\"DequeueCount\":1}}";
        var r2 = await app.InvokeAsync("TestEcho", asObject);
        Assert.Equal(200, (int)r2.StatusCode);

        // Shape 3: singly encoded string.
        var single = JsonSerializer.Serialize(new { Data = new { message }, Metadata = new { DequeueCount = 1 } });
        Assert.Equal(200, (int)(await app.InvokeAsync("TestEcho", single)).StatusCode);

        var probes = seen.Where(p => p.Function == "TestEcho").ToList();
        Assert.Equal(3, probes.Count);
        Assert.All(probes, p => Assert.Equal(message, p.Text.Replace(" ", "")));
        Assert.Equal(2, probes[0].DequeueCount);
        Assert.Equal(1, probes[1].DequeueCount);
    }

    [Fact]
    public async Task A_failing_handler_answers_non_2xx_and_unknown_functions_404()
    {
        var seen = new ConcurrentQueue<Probe>();
        await using var app = await StartWithTestFunctions(seen, Names(), new HostQueueSettings(16, 8, TimeSpan.FromSeconds(2), TimeSpan.Zero, 3));
        var r = await app.InvokeAsync("TestFails", """{"Data":{"message":"x"},"Metadata":{}}""");
        Assert.Equal(500, (int)r.StatusCode);
        Assert.Contains("always fails", (await r.Json()).GetProperty("Logs")[0].GetString());
        await (await app.InvokeAsync("NoSuchFunction", "{}")).Problem(404, "unknown_function");
        // Malformed invocation bodies fail the invocation (so the host poison-queues them) rather than crashing.
        Assert.Equal(500, (int)(await app.InvokeAsync("TestEcho", "{not json")).StatusCode);
    }

    [Fact]
    public async Task Standalone_polls_the_queue_and_moves_a_message_that_always_fails_to_poison_after_max_dequeue_count()
    {
        var seen = new ConcurrentQueue<Probe>();
        var n = Names();
        await using var app = await StartWithTestFunctions(seen, n);
        var storage = app.Service<StorageClients>();

        await storage.Queue(n.Echo).SendMessageAsync("""{"hello":"queue"}""");
        await WaitFor(() => seen.Any(p => p.Function == "TestEcho"), TimeSpan.FromSeconds(15), "the echo handler");
        Assert.Equal("""{"hello":"queue"}""", seen.First(p => p.Function == "TestEcho").Text);
        await WaitFor(() => storage.Queue(n.Echo).GetProperties().Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(10), "delete after success");

        await storage.Queue(n.Fails).SendMessageAsync("doomed");
        var poison = storage.Queue(n.Fails + "-poison");
        await WaitFor(() => poison.PeekMessages(1).Value.Length == 1, TimeSpan.FromSeconds(30), "the poison queue");
        var attempts = seen.Where(p => p.Function == "TestFails").Select(p => p.DequeueCount).ToList();
        Assert.Equal(new long[] { 1, 2, 3 }, attempts);
        Assert.Equal("doomed", poison.PeekMessages(1).Value[0].Body.ToString());
        await WaitFor(() => storage.Queue(n.Fails).GetProperties().Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(10), "the original deleted");
    }

    [Fact]
    public async Task Standalone_takes_a_new_batch_once_no_more_than_new_batch_threshold_messages_are_still_running()
    {
        var queueName = "gate-" + Guid.NewGuid().ToString("N")[..10];
        // Base64, as host.json tells the trigger to expect.
        var queue = new QueueClient(Azurite.Instance.ConnectionString, queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateAsync();
        // Two quick messages, then slow ones that wait for the gate.
        foreach (var text in new[] { "fast", "fast" }.Concat(Enumerable.Repeat("slow", 8))) await queue.SendMessageAsync(text);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0, done = 0;
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddQueueFunction("TestGate", queueName, async inv =>
            {
                Interlocked.Increment(ref running);
                if (inv.QueueMessageText().Contains("slow", StringComparison.Ordinal)) await gate.Task;
                Interlocked.Decrement(ref running);
                Interlocked.Increment(ref done);
            });
            // batchSize 4, newBatchThreshold 2, as the Functions host reads them from host.json.
            b.Services.AddSingleton(new HostQueueSettings(4, 2, TimeSpan.FromMilliseconds(100), TimeSpan.Zero, 3));
        });

        try
        {
            // First batch: fast, fast, slow, slow. Once the fast two are done only 2 run, so the next 4 are taken
            // without waiting for the slow ones; then 6 > 2 run and no further batch is taken until some finish.
            var until = DateTime.UtcNow.AddSeconds(15);
            while (Volatile.Read(ref running) != 6)
            {
                if (DateTime.UtcNow > until) Assert.Fail($"expected a second batch alongside the slow first one: {Volatile.Read(ref running)} running, {Volatile.Read(ref done)} done");
                await Task.Delay(50);
            }
            await Task.Delay(1000);
            Assert.Equal(6, Volatile.Read(ref running));
            Assert.Equal(2, Volatile.Read(ref done));
        }
        finally { gate.TrySetResult(); } // a failed check must not leave handlers waiting at shutdown
        await WaitFor(() => Volatile.Read(ref done) == 10, TimeSpan.FromSeconds(20), "all ten messages");
        await WaitFor(() => queue.GetProperties().Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(10), "every message deleted");
    }

    [Fact]
    public async Task Standalone_timer_fires_on_its_schedule_with_timer_info()
    {
        var seen = new ConcurrentQueue<Probe>();
        await using var app = await StartWithTestFunctions(seen, Names());
        await WaitFor(() => seen.Count(p => p.Function == "TestTimer") >= 2, TimeSpan.FromSeconds(10), "two timer ticks");
        var tick = seen.First(p => p.Function == "TestTimer").Text.Split('|');
        Assert.Equal("False", tick[0]);
        Assert.True(DateTimeOffset.Parse(tick[1], System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddSeconds(-10));
    }

    [Fact]
    public async Task Shutdown_lets_an_in_flight_message_finish_and_loses_nothing()
    {
        var seen = new ConcurrentQueue<Probe>();
        var n = Names();
        var app = await StartWithTestFunctions(seen, n);
        var queue = app.Service<StorageClients>().Queue(n.Slow);
        await queue.SendMessageAsync("m1");
        await WaitFor(() => seen.Any(p => p.Text == "started:m1"), TimeSpan.FromSeconds(15), "the slow handler to start");
        await app.DisposeAsync();
        Assert.Contains(seen, p => p.Text == "finished:m1");
        // Finished means deleted; nothing left behind to be handled twice, nothing lost.
        var client = new QueueClient(Azurite.Instance.ConnectionString, n.Slow);
        Assert.Equal(0, (await client.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }
}
