using System.Collections.Concurrent;
using Campaigns.Moderation;
using Campaigns.Platform;

namespace Campaigns.Tests.Moderation;

/// <summary>
/// Stand-ins for the seams owned by Submissions and Voting: they keep state the way the owners promise
/// (reversible hides and invalidations) and record every call, so round trips can be checked exactly.
/// </summary>
public sealed class FakeEntries : IEntryModeration, IEntryDirectory
{
    public sealed record Entry(string CampaignId, string EntryId, string Owner, string Status, bool OwnerHidden, DateTimeOffset SubmittedAt, string Kind = "photo");

    public readonly ConcurrentDictionary<(string, string), Entry> Entries = new();
    public readonly ConcurrentQueue<(string EntryId, EntryDecision Decision)> Applied = new();
    public readonly ConcurrentQueue<(string FanId, bool Hidden)> OwnerCalls = new();

    public void Add(string campaignId, string entryId, string owner, string status, DateTimeOffset submittedAt)
        => Entries[(campaignId, entryId)] = new(campaignId, entryId, owner, status, false, submittedAt);

    public Task ApplyAsync(string campaignId, string entryId, EntryDecision decision, CancellationToken ct)
    {
        Applied.Enqueue((entryId, decision));
        Entries.AddOrUpdate((campaignId, entryId), _ => new(campaignId, entryId, "?", decision.Status, false, decision.At), (_, e) => e with { Status = decision.Status });
        return Task.CompletedTask;
    }

    // Hiding is a separate bit, as Submissions keeps it, so unhiding restores each entry's own status.
    public Task<int> SetOwnerHiddenAsync(string campaignId, string fanId, bool hidden, CancellationToken ct)
    {
        OwnerCalls.Enqueue((fanId, hidden));
        var changed = 0;
        foreach (var (key, e) in Entries.Where(kv => kv.Value.CampaignId == campaignId && kv.Value.Owner == fanId && kv.Value.OwnerHidden != hidden).ToList())
        {
            Entries[key] = e with { OwnerHidden = hidden };
            changed++;
        }
        return Task.FromResult(changed);
    }

    public Task<EntryInfo?> GetAsync(string campaignId, string entryId, CancellationToken ct)
        => Task.FromResult(Entries.TryGetValue((campaignId, entryId), out var e) ? Info(e) : null);

    public async IAsyncEnumerable<EntryInfo> ApprovedAsync(string campaignId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Yield();
        foreach (var e in Entries.Values.Where(e => e.CampaignId == campaignId && e.Status == "approved" && !e.OwnerHidden).OrderBy(e => e.EntryId))
            yield return Info(e)!;
    }

    private static EntryInfo? Info(Entry e) => new(e.CampaignId, e.EntryId, e.Owner, e.Kind, e.OwnerHidden ? "hidden" : e.Status, e.SubmittedAt, "t-" + e.EntryId, "fr");
}

public sealed class FakeVotes : IVoteSuspension, IRevealedResults, IFanVoteCounts
{
    /// <summary>Rounds whose live counts staff can watch, and from when.</summary>
    public readonly System.Collections.Concurrent.ConcurrentDictionary<(string Campaign, string Round), DateTimeOffset> LiveFrom = new();

    public Task<DateTimeOffset?> LiveCountsVisibleFromAsync(string campaignId, string roundId, CancellationToken ct)
        => Task.FromResult(LiveFrom.TryGetValue((campaignId, roundId), out var at) ? at : (DateTimeOffset?)null);

    // Invalid: refused for its own reasons (fraud, …); Blocked: the suspension a block puts on and the only thing its lift clears.
    public sealed record Vote(string CampaignId, string FanId, string EntryId, DateTimeOffset At, bool Invalid, bool Blocked = false);

    public readonly List<Vote> Votes = [];
    public readonly ConcurrentDictionary<(string, string), RevealedTally> Revealed = new();
    public readonly ConcurrentQueue<string> Calls = new();
    private readonly Lock _gate = new();

    public Task<int> SuspendFanAsync(string campaignId, string fanId, string reason, string actor, CancellationToken ct) => Set(campaignId, fanId, true, $"suspend {fanId} by {actor}");
    public Task<int> LiftSuspensionAsync(string campaignId, string fanId, string actor, CancellationToken ct) => Set(campaignId, fanId, false, $"lift {fanId} by {actor}");

    private Task<int> Set(string campaignId, string fanId, bool invalid, string call)
    {
        Calls.Enqueue(call);
        lock (_gate)
        {
            var n = 0;
            for (var i = 0; i < Votes.Count; i++)
                if (Votes[i].CampaignId == campaignId && Votes[i].FanId == fanId && !Votes[i].Invalid && Votes[i].Blocked != invalid) { Votes[i] = Votes[i] with { Blocked = invalid }; n++; }
            return Task.FromResult(n);
        }
    }

    public Task<RevealedTally?> GetRevealedAsync(string campaignId, string roundId, CancellationToken ct)
        => Task.FromResult(Revealed.TryGetValue((campaignId, roundId), out var t) ? t : null);

    public Task<IReadOnlyDictionary<string, long>> VotesCastAsync(string campaignId, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyDictionary<string, long>>(Votes.Where(v => v.CampaignId == campaignId && !v.Invalid && !v.Blocked && v.At >= from && v.At < to)
                .GroupBy(v => v.FanId).ToDictionary(g => g.Key, g => (long)g.Count()));
    }
}
