using System.Diagnostics.Metrics;
using System.Text.Json;
using Campaigns.Campaigns;
using Campaigns.Platform;

namespace Campaigns.Voting;

/// <summary>Voting's side of the capability seams (Platform/Contracts.cs).</summary>
internal sealed class VotingContracts(BallotStore ballots, VoteCounter counter, RevealService reveal, CampaignStore campaigns)
    : IVoteInvalidation, IVoteSuspension, IVoterDirectory, IRevealedResults, Moderation.IFanVoteCounts, ICampaignEditGuard
{
    /// <summary>
    /// A campaign edit moves the windows of rounds that have none of their own: the same freeze as a ballot edit
    /// applies. An allowed later close is written to the ballot's audit before the campaign is saved.
    /// </summary>
    public async Task<ApiProblem?> CheckAsync(Campaigns.Campaign before, Campaigns.Campaign after, string actor, DateTimeOffset now, CancellationToken ct)
    {
        if (await ballots.GetAsync(before.Id, ct) is not { } stored) return null;
        var (decided, refused) = BallotFreeze.Decide(stored.Ballot, stored.Ballot, before, after, actor, now);
        if (refused is not null) return refused;
        if ((decided!.Audit?.Length ?? 0) != (stored.Ballot.Audit?.Length ?? 0)) await ballots.SaveAsync(decided, stored.ETag, ct);
        return null;
    }

    /// <summary>
    /// Counted votes per fan whose latest vote lies in [from, to): a ballot counts 1 per round, entry voting one per
    /// entry voted for. A fan who changed a "last vote wins" ballot counts once, at the instant of the change.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> VotesCastAsync(string campaignId, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!CampaignRules.IdPattern().IsMatch(campaignId) || await ballots.GetCachedAsync(campaignId, ct) is not { } ballot) return result;
        foreach (var round in ballot.Rounds)
            await foreach (var fan in counter.CountedFanVotesAsync(campaignId, round, ct))
                if (fan.At >= from && fan.At < to) result[fan.FanId] = result.GetValueOrDefault(fan.FanId) + fan.VoteCount;
        return result;
    }

    public async Task<int> InvalidateFanAsync(string campaignId, string fanId, string reason, string actor, CancellationToken ct)
        => await ForEachRound(campaignId, fanId, new AdminOp(HoldLedger.Fraud, false, actor, reason), ct);

    public async Task<int> RestoreFanAsync(string campaignId, string fanId, string actor, CancellationToken ct)
        => await ForEachRound(campaignId, fanId, new AdminOp(HoldLedger.Fraud, true, actor, null), ct);

    public async Task<int> SuspendFanAsync(string campaignId, string fanId, string reason, string actor, CancellationToken ct)
        => await ForEachRound(campaignId, fanId, new AdminOp(HoldLedger.Moderation, false, actor, reason), ct);

    public async Task<int> LiftSuspensionAsync(string campaignId, string fanId, string actor, CancellationToken ct)
        => await ForEachRound(campaignId, fanId, new AdminOp(HoldLedger.Moderation, true, actor, null), ct);

    private async Task<int> ForEachRound(string campaignId, string fanId, AdminOp op, CancellationToken ct)
    {
        if (await ballots.GetCachedAsync(campaignId, ct) is not { } ballot) return 0;
        var total = 0;
        foreach (var round in ballot.Rounds) total += await counter.AdminAsync(ballot, round, fanId, op);
        return total;
    }

    public async IAsyncEnumerable<string> CountedVotersAsync(string campaignId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (await ballots.GetCachedAsync(campaignId, ct) is not { } ballot) yield break;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var round in ballot.Rounds)
            await foreach (var fan in counter.CountedFansAsync(campaignId, round, ct))
                if (seen.Add(fan)) yield return fan;
    }

    public async Task<DateTimeOffset?> LiveCountsVisibleFromAsync(string campaignId, string roundId, CancellationToken ct)
    {
        if (!VoteRules.IdPattern().IsMatch(roundId) || !CampaignRules.IdPattern().IsMatch(campaignId)) return null;
        if (await ballots.GetAsync(campaignId, ct) is not { } b || b.Ballot.Tally == TallyVisibility.Nobody) return null;
        if (b.Ballot.Rounds.FirstOrDefault(r => r.Id == roundId) is not { } round || await campaigns.GetAsync(campaignId, ct) is not { } c) return null;
        return VoteRules.Window(round, c.Campaign)?.Start;
    }

    public async Task<RevealedTally?> GetRevealedAsync(string campaignId, string roundId, CancellationToken ct)
    {
        if (!VoteRules.IdPattern().IsMatch(roundId) || !CampaignRules.IdPattern().IsMatch(campaignId)) return null;
        if (await reveal.GetAsync(campaignId, roundId, ct) is not { } signed) return null;
        var s = JsonSerializer.Deserialize<RevealSnapshot>(signed.Snapshot, JsonDefaults.Options)!;
        var counts = s.Categories.SelectMany(c => c.Options.Select(o => new RevealedCount(c.Id, o.Id, o.Count))).ToList();
        return new RevealedTally(s.CampaignId, s.RoundId, s.RevealedAt, counts);
    }
}

/// <summary>"voting.reveal": due at each round's reveal instant (default the campaign's Windows.Reveal); idempotent.</summary>
internal sealed class VotingRevealAction(CampaignStore campaigns, BallotStore ballots, RevealService reveal) : IPhaseAction
{
    public string Kind => "voting.reveal";

    public async Task<IReadOnlyList<DateTimeOffset>> DueInstantsAsync(string campaignId, CancellationToken ct)
    {
        if (await campaigns.GetAsync(campaignId, ct) is not { } c || await ballots.GetAsync(campaignId, ct) is not { } b) return [];
        return b.Ballot.Rounds.Select(r => VoteRules.RevealAt(r, c.Campaign)).OfType<DateTimeOffset>().Distinct().Order().ToList();
    }

    /// <summary>Reveals every round due at or before <paramref name="dueAt"/>; a round still counting throws so the scheduler retries.</summary>
    public async Task RunAsync(string campaignId, DateTimeOffset dueAt, CancellationToken ct)
    {
        if (await campaigns.GetAsync(campaignId, ct) is not { } c || await ballots.GetAsync(campaignId, ct) is not { } b) return;
        foreach (var round in b.Ballot.Rounds.Where(r => VoteRules.RevealAt(r, c.Campaign) is { } at && at <= dueAt))
            await reveal.RevealAsync(c.Campaign, b.Ballot, round, "scheduler", ct);
    }
}

/// <summary>
/// Counts the HTTP requests this process sends to storage (from .NET's own http.client metrics), so the benchmark can
/// report storage operations per vote without instrumenting every call site.
/// </summary>
public sealed class StorageOps : IHostedService, IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Host, int Port), string> _endpoints;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _byKind = new();
    private long _count;

    public StorageOps(StorageClients storage)
    {
        _endpoints = new[] { ("table", storage.Tables.Uri), ("queue", storage.Queues.Uri), ("blob", storage.Blobs.Uri) }
            .DistinctBy(x => (x.Item2.Host, x.Item2.Port)).ToDictionary(x => (x.Item2.Host, x.Item2.Port), x => x.Item1);
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration") l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? host = null, method = null; int port = 0;
            foreach (var t in tags)
            {
                if (t.Key == "server.address") host = t.Value as string;
                else if (t.Key == "server.port" && t.Value is int p) port = p;
                else if (t.Key == "http.request.method") method = t.Value as string;
            }
            if (host is null || !_endpoints.TryGetValue((host, port), out var service)) return;
            Interlocked.Increment(ref _count);
            _byKind.AddOrUpdate(service + " " + method, 1, (_, n) => n + 1);
        });
    }

    public Task StartAsync(CancellationToken ct) { _listener.Start(); return Task.CompletedTask; }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Requests per storage service and HTTP method (e.g. "table POST" = transactions, "queue DELETE").</summary>
    public IReadOnlyDictionary<string, long> ByKind => _byKind.ToDictionary(kv => kv.Key, kv => kv.Value);

    public void Dispose() => _listener.Dispose();
}
