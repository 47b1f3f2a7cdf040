using System.Collections.Concurrent;

namespace Campaigns.Platform;

/// <summary>
/// A short-lived read cache for hot paths (vote accept, blocklist): one load at a time per key, shared by every
/// concurrent caller, and while a reload is in flight callers keep the previous value — so a burst never turns
/// an expiry into hundreds of identical storage reads.
/// </summary>
public sealed class TtlCache<T>(TimeSpan ttl, TimeProvider time) where T : class
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new();

    public async Task<T?> GetAsync(string key, Func<Task<T?>> load)
    {
        var now = time.GetUtcNow();
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        Task<T?> refresh;
        lock (entry)
        {
            if (entry.Loaded && entry.Until > now) return entry.Value;
            refresh = entry.Refresh ??= LoadAsync(entry, load);
            if (entry.Loaded) return entry.Value;
        }
        return await refresh;
    }

    /// <summary>Forgets a key after this instance changed what it caches.</summary>
    public void Forget(string key) => _entries.TryRemove(key, out _);

    /// <summary>Forgets every key that starts with <paramref name="prefix"/> (e.g. all rounds of a campaign).</summary>
    public void ForgetPrefix(string prefix)
    {
        foreach (var key in _entries.Keys)
            if (key.StartsWith(prefix, StringComparison.Ordinal)) _entries.TryRemove(key, out _);
    }

    private async Task<T?> LoadAsync(Entry entry, Func<Task<T?>> load)
    {
        await Task.Yield(); // leave the lock before the load runs
        try
        {
            var value = await load();
            lock (entry)
            {
                entry.Value = value;
                entry.Loaded = true;
                entry.Until = time.GetUtcNow() + ttl;
            }
            return value;
        }
        finally
        {
            lock (entry) entry.Refresh = null;
        }
    }

    private sealed class Entry
    {
        public T? Value;
        public bool Loaded;
        public DateTimeOffset Until;
        public Task<T?>? Refresh;
    }
}
