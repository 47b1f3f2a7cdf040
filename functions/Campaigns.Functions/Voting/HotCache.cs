using System.Collections.Concurrent;
using Campaigns.Campaigns;

namespace Campaigns.Voting;

/// <summary>
/// Campaign and ballot documents for the vote hot path, at most two seconds old, loaded single-flight: when an entry
/// expires under a burst, one request reloads it and the others keep using the previous value meanwhile, instead of
/// hundreds of concurrent reads of the same row.
/// </summary>
public sealed class HotCache(CampaignStore campaigns, BallotStore ballots, TimeProvider time)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, Entry<Campaign>> _campaigns = new();
    private readonly ConcurrentDictionary<string, Entry<Ballot>> _ballots = new();

    public Task<Campaign?> CampaignAsync(string id, CancellationToken ct = default)
        => Get(_campaigns, id, async () => (await campaigns.GetAsync(id, CancellationToken.None))?.Campaign);

    public Task<Ballot?> BallotAsync(string campaignId, CancellationToken ct = default)
        => Get(_ballots, campaignId, async () => (await ballots.GetAsync(campaignId, CancellationToken.None))?.Ballot);

    /// <summary>Forgets a ballot after this instance changed it.</summary>
    public void ForgetBallot(string campaignId) => _ballots.TryRemove(campaignId, out _);

    private async Task<T?> Get<T>(ConcurrentDictionary<string, Entry<T>> map, string key, Func<Task<T?>> load) where T : class
    {
        var now = time.GetUtcNow();
        var entry = map.GetOrAdd(key, _ => new Entry<T>());
        Task<T?>? refresh = null;
        lock (entry)
        {
            if (entry.Loaded && entry.Until > now) return entry.Value;
            if (entry.Refresh is null)
            {
                refresh = entry.Refresh = Load(entry, load);
            }
            else refresh = entry.Refresh;
            // While a reload is in flight, callers keep the previous value if there is one.
            if (entry.Loaded) return entry.Value;
        }
        return await refresh;
    }

    private async Task<T?> Load<T>(Entry<T> entry, Func<Task<T?>> load) where T : class
    {
        await Task.Yield();
        try
        {
            var value = await load();
            lock (entry)
            {
                entry.Value = value;
                entry.Loaded = true;
                entry.Until = time.GetUtcNow() + Ttl;
            }
            return value;
        }
        finally
        {
            lock (entry) entry.Refresh = null;
        }
    }

    private sealed class Entry<T> where T : class
    {
        public T? Value;
        public bool Loaded;
        public DateTimeOffset Until;
        public Task<T?>? Refresh;
    }
}
