using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Campaigns.Tests.Infrastructure;

/// <summary>How often the proxy injects each fault, per storage request (0..1; the sum must stay ≤ 1).</summary>
public sealed record FaultRates(double ServerBusy = 0, double Delay = 0, double DropBeforeForward = 0, double DropAfterForward = 0)
{
    public static readonly FaultRates None = new();
}

/// <summary>
/// An HTTP/1.1 proxy on loopback in front of Azurite's blob, queue and table endpoints that injects faults per request,
/// drawn from a seeded <see cref="Random"/> (print <see cref="Describe"/> in failure messages to reproduce a run):
/// <list type="bullet">
/// <item>503 Server Busy without forwarding (what Storage answers when throttling);</item>
/// <item>a delay before forwarding (longer than a caller's timeout: the caller gives up, the request still happens);</item>
/// <item>a dropped connection before forwarding (nothing happened);</item>
/// <item>a dropped connection after forwarding, once Azurite has begun to answer (the write happened, the client saw a failure).</item>
/// </list>
/// Each client connection gets its own upstream connection; requests are parsed only as far as their headers and
/// Content-Length so one keep-alive connection can carry many requests. Stops and closes everything on dispose.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly Azurite _azurite;
    private readonly TcpListener[] _listeners;
    private readonly CancellationTokenSource _stop = new();
    private readonly Random _random;
    private readonly object _gate = new();
    private readonly List<Task> _tasks = [];
    private readonly HashSet<TcpClient> _open = [];
    private long _requests, _serverBusy, _delayed, _droppedBefore, _droppedAfter;

    public FaultProxy(Azurite azurite, int seed, TimeSpan delay)
    {
        _azurite = azurite;
        Seed = seed;
        DelayBy = delay;
        _random = new Random(seed);
        _listeners = [Listen(azurite.BlobPort), Listen(azurite.QueuePort), Listen(azurite.TablePort)];
    }

    public int Seed { get; }
    public TimeSpan DelayBy { get; }

    /// <summary>Switched at any time; requests already being forwarded finish under the rates they drew.</summary>
    public FaultRates Rates { get; set; } = FaultRates.None;

    public int BlobPort => Port(0);
    public int QueuePort => Port(1);
    public int TablePort => Port(2);

    public long Requests => Interlocked.Read(ref _requests);
    public long Injected => Interlocked.Read(ref _serverBusy) + Interlocked.Read(ref _delayed) + Interlocked.Read(ref _droppedBefore) + Interlocked.Read(ref _droppedAfter);

    /// <summary>The seed and what was injected, for failure messages.</summary>
    public string Describe() =>
        $"fault proxy seed {Seed}: {Requests} requests, {_serverBusy} answered 503, {_delayed} delayed {DelayBy.TotalSeconds:0.#} s, " +
        $"{_droppedBefore} dropped before forwarding, {_droppedAfter} dropped after forwarding";

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    private int Port(int i) => ((IPEndPoint)_listeners[i].LocalEndpoint).Port;

    private TcpListener Listen(int upstream)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Track(Task.Run(() => AcceptAsync(listener, upstream)));
        return listener;
    }

    private void Track(Task task)
    {
        lock (_gate)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(task);
        }
    }

    private async Task AcceptAsync(TcpListener listener, int upstream)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            Track(Task.Run(() => ServeAsync(client, upstream)));
        }
    }

    private enum Fault { None, ServerBusy, Delay, DropBefore, DropAfter }

    private Fault Draw()
    {
        var rates = Rates;
        double roll;
        lock (_random) roll = _random.NextDouble();
        if ((roll -= rates.ServerBusy) < 0) return Fault.ServerBusy;
        if ((roll -= rates.Delay) < 0) return Fault.Delay;
        if ((roll -= rates.DropBeforeForward) < 0) return Fault.DropBefore;
        if ((roll -= rates.DropAfterForward) < 0) return Fault.DropAfter;
        return Fault.None;
    }

    private async Task ServeAsync(TcpClient client, int upstreamPort)
    {
        using var server = new TcpClient();
        lock (_gate) { _open.Add(client); _open.Add(server); }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var ct = linked.Token;
        try
        {
            client.NoDelay = server.NoDelay = true;
            await server.ConnectAsync(IPAddress.Loopback, upstreamPort, ct);
            var down = client.GetStream();
            var up = server.GetStream();
            // Set when a request was forwarded with "drop after forwarding": the first bytes of its answer close both sides.
            var dropOnAnswer = 0;
            var answers = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                try
                {
                    while (true)
                    {
                        var n = await up.ReadAsync(buffer, ct);
                        if (n == 0) break;
                        if (Volatile.Read(ref dropOnAnswer) == 1) { Abort(client); Abort(server); return; }
                        await down.WriteAsync(buffer.AsMemory(0, n), ct);
                    }
                }
                catch (Exception) { }
                await linked.CancelAsync();
            }, CancellationToken.None);

            var reader = new RequestReader(down);
            while (await reader.ReadAsync(ct) is { } request)
            {
                Interlocked.Increment(ref _requests);
                switch (Draw())
                {
                    case Fault.ServerBusy:
                        Interlocked.Increment(ref _serverBusy);
                        await down.WriteAsync(ServerBusyResponse, ct);
                        continue;
                    case Fault.DropBefore:
                        Interlocked.Increment(ref _droppedBefore);
                        Abort(client);
                        return;
                    case Fault.Delay:
                        Interlocked.Increment(ref _delayed);
                        await Task.Delay(DelayBy, ct);
                        break;
                    case Fault.DropAfter:
                        Interlocked.Increment(ref _droppedAfter);
                        Volatile.Write(ref dropOnAnswer, 1);
                        break;
                }
                await up.WriteAsync(request, ct);
                // A request with a chunked body cannot be framed here: pass the rest of the connection through untouched.
                if (reader.Chunked) { await reader.CopyRestAsync(up, ct); break; }
            }
            await answers;
        }
        catch (Exception) { }
        finally
        {
            lock (_gate) { _open.Remove(client); _open.Remove(server); }
            client.Dispose();
        }
    }

    private static void Abort(TcpClient c)
    {
        try { c.Client.LingerState = new LingerOption(true, 0); c.Client.Close(); } catch (Exception) { }
    }

    private static readonly byte[] ServerBusyResponse = Response(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>Injected by the fault proxy.</Message></Error>");

    private static byte[] Response(string body) => Encoding.ASCII.GetBytes(
        "HTTP/1.1 503 Server Busy\r\nx-ms-error-code: ServerBusy\r\nContent-Type: application/xml\r\n" +
        $"Content-Length: {Encoding.ASCII.GetByteCount(body)}\r\n\r\n{body}");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var l in _listeners) l.Stop();
        lock (_gate) foreach (var c in _open) Abort(c);
        Task[] tasks;
        lock (_gate) tasks = _tasks.ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        _stop.Dispose();
    }

    /// <summary>Reads one request at a time (headers, then a Content-Length body) from a keep-alive connection.</summary>
    private sealed class RequestReader(Stream stream)
    {
        private const int MaxHeader = 64 * 1024;
        private byte[] _buffer = new byte[16 * 1024];
        private int _start, _end;

        public bool Chunked { get; private set; }

        public async Task<byte[]?> ReadAsync(CancellationToken ct)
        {
            int headerEnd;
            while ((headerEnd = IndexOfHeaderEnd()) < 0)
            {
                if (_end - _start > MaxHeader) throw new InvalidDataException("Request header too large.");
                if (!await FillAsync(ct)) return null;
            }
            var header = Encoding.ASCII.GetString(_buffer, _start, headerEnd - _start);
            long length = 0;
            foreach (var line in header.Split("\r\n"))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) length = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase)) Chunked = true;
            }
            var total = headerEnd + 4 - _start + (Chunked ? 0 : length);
            while (_end - _start < total)
                if (!await FillAsync(ct)) throw new EndOfStreamException("Connection closed inside a request.");
            var request = _buffer.AsSpan(_start, (int)total).ToArray();
            _start += (int)total;
            return request;
        }

        public async Task CopyRestAsync(Stream to, CancellationToken ct)
        {
            if (_end > _start) await to.WriteAsync(_buffer.AsMemory(_start, _end - _start), ct);
            _start = _end = 0;
            await stream.CopyToAsync(to, ct);
        }

        private int IndexOfHeaderEnd() => _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8) is var i and >= 0 ? _start + i : -1;

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            if (_start > 0 && _start == _end) _start = _end = 0;
            if (_end == _buffer.Length)
            {
                var live = _end - _start;
                var next = live * 2 > _buffer.Length ? new byte[_buffer.Length * 2] : _buffer;
                Buffer.BlockCopy(_buffer, _start, next, 0, live);
                _buffer = next;
                _start = 0;
                _end = live;
            }
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            _end += n;
            return n > 0;
        }
    }
}
