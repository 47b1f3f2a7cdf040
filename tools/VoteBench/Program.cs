using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

// Usage:
//   VoteBench bare --urls http://127.0.0.1:PORT           the bare Kestrel endpoint (the ceiling)
//   VoteBench run --service URL --bare URL --key DEVKEY [--duration S] [--clients N] [--drain-timeout S] [--campaign ID] [--round ID]
//   VoteBench table --connection CONNECTION_STRING [--rows N] [--shards S]   the table store's own write rate as it fills
return args.FirstOrDefault() switch
{
    "bare" => await Bare.RunAsync(args),
    "table" => await TableCeiling.RunAsync(args),
    "run" => await Bench.RunAsync(Options.Parse(args)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: VoteBench bare --urls URL | run --service URL --bare URL --key KEY [--duration S] [--clients N] | table --connection CS [--rows N] [--shards S]");
    return 2;
}

sealed record Options(string Service, string BareUrl, string Key, int Duration, int Clients, string Campaign, string Round, string Audience, string Issuer,
    int DrainTimeout, string RulesVersion = "2026-11")
{
    /// <summary>The value after <paramref name="name"/>, else <paramref name="fallback"/>; without a fallback the option is required.</summary>
    public static string Get(string[] a, string name, string? fallback = null)
    {
        var i = Array.IndexOf(a, name);
        return i >= 0 && i + 1 < a.Length ? a[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
    }

    public static Options Parse(string[] a)
    {
        string Get(string name, string? fallback = null) => Options.Get(a, name, fallback);
        return new Options(Get("--service"), Get("--bare"), Get("--key"), int.Parse(Get("--duration", "20"), CultureInfo.InvariantCulture),
            int.Parse(Get("--clients", "512"), CultureInfo.InvariantCulture), Get("--campaign", "configure-the-911"), Get("--round", "final"),
            Get("--audience", "campaigns-api"), Get("--issuer", "campaigns-dev"), int.Parse(Get("--drain-timeout", "600"), CultureInfo.InvariantCulture),
            // The demo campaign's rules: each vote accepts them, as a microsite showing the rules with the ballot does.
            Get("--rules-version", "2026-11"));
    }
}

static class Bare
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var reply = "{\"voteId\":\"v00000000000000000000000000000\",\"acceptedAt\":\"2026-01-01T00:00:00+00:00\"}"u8.ToArray();
        app.MapPost("/bare", async (HttpContext http) =>
        {
            // Read the body like a real endpoint would, then answer 202 with a receipt-sized JSON.
            using var sr = new StreamReader(http.Request.Body);
            await sr.ReadToEndAsync();
            http.Response.StatusCode = 202;
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(reply);
        });
        app.MapGet("/", () => "ok");
        await app.RunAsync();
        return 0;
    }
}

/// <summary>Mints HS256 dev tokens (the service's Auth__DevSigningKey) quickly: a fresh fan per vote.</summary>
sealed class Tokens(Options o)
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(o.Key);
    private readonly string _header = B64("""{"alg":"HS256","kid":"dev","typ":"JWT"}"""u8);
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private long _next;
    private static readonly string[] Countries = ["DE", "AT", "CH", "FR", "GB", "US"];

    public string Next()
    {
        var n = Interlocked.Increment(ref _next);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $"{{\"sub\":\"bench-{_run}-{n}\",\"roles\":\"fan\",\"name\":\"bench\",\"birthdate\":\"1990-01-01\",\"country\":\"{Countries[n % Countries.Length]}\"," +
                      $"\"iss\":\"{o.Issuer}\",\"aud\":\"{o.Audience}\",\"iat\":{now},\"nbf\":{now - 5},\"exp\":{now + 3600}}}";
        var unsigned = _header + "." + B64(Encoding.UTF8.GetBytes(payload));
        return unsigned + "." + B64(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(unsigned)));
    }

    /// <summary>
    /// The demo's owner of the "porsche" workspace (the seeded campaign's tally), who also signs in as an operator (the
    /// instance's storage counters): staff powers come from the seeded membership, not from the token.
    /// </summary>
    public string Admin()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $"{{\"sub\":\"olivia\",\"roles\":[\"staff\",\"operator\"],\"iss\":\"{o.Issuer}\",\"aud\":\"{o.Audience}\",\"iat\":{now},\"nbf\":{now - 5},\"exp\":{now + 7200}}}";
        var unsigned = _header + "." + B64(Encoding.UTF8.GetBytes(payload));
        return unsigned + "." + B64(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(unsigned)));
    }

    private static string B64(ReadOnlySpan<byte> b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

sealed class Phase
{
    public long Ok, Failed;
    public readonly ConcurrentBag<double> Latencies = [];
    public readonly ConcurrentDictionary<string, byte> VoteIds = new();
    public double Seconds;
    public double Rate => Ok / Seconds;
    public double P(double q)
    {
        var l = Latencies.ToArray();
        if (l.Length == 0) return double.NaN;
        Array.Sort(l);
        return l[Math.Min(l.Length - 1, (int)Math.Ceiling(q * l.Length) - 1)];
    }
}

static class Bench
{
    private static string LastKinds = "";
    private static readonly string[][] Ballot =
    [
        ["exterior-colour", "guards-red", "gentian-blue", "chalk", "python-green", "jet-black"],
        ["wheels", "carrera-s-20-21", "turbo-s-centre-lock", "classic-fuchs", "rs-spyder"],
        ["interior", "black-bordeaux", "truffle-brown", "crayon-slate", "pepita-tartan"],
        ["body", "coupe", "targa", "cabriolet"],
        ["seats", "sport-plus", "adaptive-18-way", "full-bucket"],
    ];

    private static string RulesVersion = "";

    private static byte[] Body(Random r)
    {
        var sb = new StringBuilder("{\"choices\":[");
        for (var i = 0; i < Ballot.Length; i++)
        {
            if (i > 0) sb.Append(',');
            var c = Ballot[i];
            sb.Append("{\"category\":\"").Append(c[0]).Append("\",\"option\":\"").Append(c[1 + r.Next(c.Length - 1)]).Append("\"}");
        }
        sb.Append(']');
        if (RulesVersion.Length > 0) sb.Append(",\"rulesVersion\":\"").Append(RulesVersion).Append('"');
        return Encoding.UTF8.GetBytes(sb.Append('}').ToString());
    }

    public static async Task<int> RunAsync(Options o)
    {
        RulesVersion = o.RulesVersion;
        var tokens = new Tokens(o);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(o.Clients, 64) * 4,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        }) { Timeout = TimeSpan.FromSeconds(30) };
        var admin = new AuthenticationHeaderValue("Bearer", tokens.Admin());
        var voteUrl = $"{o.Service.TrimEnd('/')}/api/campaigns/{o.Campaign}/rounds/{o.Round}/votes";
        var bareUrl = $"{o.BareUrl.TrimEnd('/')}/bare";

        async Task<(long Counted, long Ops)> Stats()
        {
            using var t = new HttpRequestMessage(HttpMethod.Get, $"{o.Service}/api/campaigns/{o.Campaign}/rounds/{o.Round}/tally");
            t.Headers.Authorization = admin;
            using var tr = await http.SendAsync(t);
            var tally = JsonDocument.Parse(await tr.Content.ReadAsStringAsync()).RootElement;
            using var s = new HttpRequestMessage(HttpMethod.Get, $"{o.Service}/api/voting/stats");
            s.Headers.Authorization = admin;
            using var sr = await http.SendAsync(s);
            var stats = JsonDocument.Parse(await sr.Content.ReadAsStringAsync()).RootElement;
            LastKinds = stats.GetProperty("byKind").ToString();
            return (tally.GetProperty("votesCounted").GetInt64(), stats.GetProperty("storageOps").GetInt64());
        }

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformationText()}; clients={o.Clients} duration={o.Duration}s");
        // Warm both servers (JIT, connection pools); warm-up votes are real votes and are counted like the rest.
        var warm = new Phase();
        await ClosedLoop(http, bareUrl, tokens, o.Clients, TimeSpan.FromSeconds(3), new Phase());
        await ClosedLoop(http, voteUrl, tokens, o.Clients, TimeSpan.FromSeconds(3), warm);

        var bare = new Phase();
        await ClosedLoop(http, bareUrl, tokens, o.Clients, TimeSpan.FromSeconds(o.Duration), bare);
        Console.WriteLine($"bare kestrel: {bare.Rate:F0}/s p50={bare.P(0.5):F1}ms p99={bare.P(0.99):F1}ms failed={bare.Failed}");

        var (counted0, ops0) = await Stats();
        // What one tally read costs in storage requests (one read per shard): the drain polls it, and the service's
        // figure should not include the benchmark's own observation.
        var (_, opsCalibrated) = await Stats();
        var opsPerStats = opsCalibrated - ops0;
        var statsCalls = 0;
        var peak = new Phase();
        await ClosedLoop(http, voteUrl, tokens, o.Clients, TimeSpan.FromSeconds(o.Duration), peak);
        Console.WriteLine($"votes peak (closed loop): {peak.Rate:F0}/s p50={peak.P(0.5):F1}ms p99={peak.P(0.99):F1}ms failed={peak.Failed}");

        var paced = new Phase();
        var target = 0.8 * peak.Rate;
        await OpenLoop(http, voteUrl, tokens, target, TimeSpan.FromSeconds(o.Duration), paced);
        var loadEnd = Stopwatch.GetTimestamp();
        Console.WriteLine($"votes at 80% of peak (open loop, {target:F0}/s offered): {paced.Rate:F0}/s p50={paced.P(0.5):F1}ms p99={paced.P(0.99):F1}ms failed={paced.Failed}");

        var unique = new HashSet<string>(warm.VoteIds.Keys.Concat(peak.VoteIds.Keys).Concat(paced.VoteIds.Keys));
        long counted = 0, ops = 0;
        var drainDeadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * o.DrainTimeout;
        while (Stopwatch.GetTimestamp() < drainDeadline)
        {
            (counted, ops) = await Stats();
            statsCalls++;
            if (counted >= unique.Count) break;
            await Task.Delay(200);
        }
        var drain = Stopwatch.GetElapsedTime(loadEnd).TotalSeconds;
        // Settle briefly and read again: a count above the accepted number would be a double count.
        await Task.Delay(2000);
        (counted, ops) = await Stats();
        statsCalls++;
        var measuredVotes = peak.Ok + paced.Ok;
        var serviceOps = ops - opsCalibrated - statsCalls * opsPerStats;
        var opsPerVote = (double)serviceOps / Math.Max(1, measuredVotes);
        Console.WriteLine($"storage ops during measured phases and drain: {serviceOps} for {measuredVotes} votes ({statsCalls} tally reads of {opsPerStats} ops each by this benchmark left out); counted before={counted0} (warm-up); whole run by kind: {LastKinds}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"votes_per_s={peak.Rate:F0} kestrel_per_s={bare.Rate:F0} ratio={peak.Rate / bare.Rate:F2} p50_ms={paced.P(0.5):F1} p99_ms={paced.P(0.99):F1} drain_s={drain:F1} storage_ops_per_vote={opsPerVote:F3} accepted_unique={unique.Count} counted={counted}"));
        return counted == unique.Count ? 0 : 1;
    }

    private static string RuntimeInformationText() => System.Runtime.InteropServices.RuntimeInformation.OSDescription + ", " + System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    private static async Task<bool> Send(HttpClient http, string url, Tokens tokens, Random r, Phase phase, long scheduled)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Body(r)) };
        req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Next());
        try
        {
            using var resp = await http.SendAsync(req);
            var body = await resp.Content.ReadAsByteArrayAsync();
            if (resp.StatusCode != HttpStatusCode.Accepted) { Interlocked.Increment(ref phase.Failed); return false; }
            phase.Latencies.Add(Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds);
            Interlocked.Increment(ref phase.Ok);
            using var doc = JsonDocument.Parse(body);
            phase.VoteIds.TryAdd(doc.RootElement.GetProperty("voteId").GetString()!, 0);
            return true;
        }
        catch (HttpRequestException) { Interlocked.Increment(ref phase.Failed); return false; }
        catch (TaskCanceledException) { Interlocked.Increment(ref phase.Failed); return false; }
    }

    private static async Task ClosedLoop(HttpClient http, string url, Tokens tokens, int clients, TimeSpan duration, Phase phase)
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            var r = new Random(i);
            while (Stopwatch.GetTimestamp() < end) await Send(http, url, tokens, r, phase, Stopwatch.GetTimestamp());
        })));
        phase.Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Offers a fixed rate; latency runs from the scheduled send time, so a stall shows up in p99 (no coordinated omission).</summary>
    private static async Task OpenLoop(HttpClient http, string url, Tokens tokens, double rate, TimeSpan duration, Phase phase)
    {
        var start = Stopwatch.GetTimestamp();
        var total = (long)(rate * duration.TotalSeconds);
        var inflight = new List<Task>();
        var r = new Random(7);
        for (long i = 0; i < total; i++)
        {
            var due = start + (long)(i / rate * Stopwatch.Frequency);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
            inflight.Add(Send(http, url, tokens, new Random(r.Next()), phase, due));
            if (inflight.Count > 4096) { inflight.RemoveAll(t => t.IsCompleted); }
        }
        await Task.WhenAll(inflight);
        phase.Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}

/// <summary>
/// The storage side's ceiling for counting: transactions shaped like the vote counter's (per shard partition: new fan
/// rows of ~300 bytes plus one replaced counter row, up to 100 entities), two in flight, into a fresh table. Prints
/// the rate per band of rows already stored, because a store whose writes cost more as it fills shows it here.
/// </summary>
static class TableCeiling
{
    public static async Task<int> RunAsync(string[] a)
    {
        string Get(string name, string fallback) => Options.Get(a, name, fallback);
        var connection = Get("--connection", "");
        if (connection.Length == 0) { Console.Error.WriteLine("--connection is required"); return 2; }
        var rows = int.Parse(Get("--rows", "200000"), CultureInfo.InvariantCulture);
        var shards = int.Parse(Get("--shards", "64"), CultureInfo.InvariantCulture);
        if (shards < 2 || shards % 2 != 0) { Console.Error.WriteLine("--shards must be even (each of the two writers owns half of them)"); return 2; }
        var table = new Azure.Data.Tables.TableClient(connection, "ceiling" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateAsync();
        var doc = new string('x', 260);
        var counters = new Azure.ETag?[shards];
        const int perTransaction = 99, band = 50_000;
        long written = 0, bandStart = 0;
        var report = new Lock();
        var sw = Stopwatch.StartNew();
        var next = 0;
        async Task Worker(int worker)
        {
            while (true)
            {
                var n = Interlocked.Increment(ref next) - 1;
                var first = (long)n * perTransaction;
                if (first >= rows) return;
                // Two workers never share a shard: with an even shard count, worker w only takes shards of w's parity.
                var shard = (n * 2 + worker) % shards;
                var pk = $"bench|final|{shard:D2}";
                var actions = new List<Azure.Data.Tables.TableTransactionAction>();
                for (var i = 0; i < perTransaction; i++)
                    actions.Add(new(Azure.Data.Tables.TableTransactionActionType.Add,
                        new Azure.Data.Tables.TableEntity(pk, $"f|fan-{first + i}") { ["Doc"] = doc, ["Counted"] = true }));
                var counter = new Azure.Data.Tables.TableEntity(pk, "n|all") { ["Counts"] = $"{{\"n|t|counted\":{first}}}" };
                actions.Add(counters[shard] is { } etag
                    ? new(Azure.Data.Tables.TableTransactionActionType.UpdateReplace, counter, etag)
                    : new(Azure.Data.Tables.TableTransactionActionType.Add, counter));
                var response = await table.SubmitTransactionAsync(actions);
                counters[shard] = response.Value[^1].Headers.ETag;
                var total = Interlocked.Add(ref written, perTransaction);
                if (total / band == (total - perTransaction) / band) continue;
                lock (report)
                {
                    var seconds = sw.Elapsed.TotalSeconds;
                    sw.Restart();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rows={bandStart}-{total} fan_rows_per_s={(total - bandStart) / seconds:F0} ms_per_row={1000 * seconds / (total - bandStart):F3}"));
                    bandStart = total;
                }
            }
        }
        await Task.WhenAll(Worker(0), Worker(1));
        await table.DeleteAsync();
        return 0;
    }
}
