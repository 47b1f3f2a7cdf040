using System.Collections.Concurrent;

namespace Campaigns.Platform;

/// <summary>
/// A fixed one-minute window per key, in memory per instance: enough to stop a runaway microsite or script;
/// with N instances the effective limit is at most N times the setting.
/// </summary>
public sealed class MinuteRateLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (long Minute, int Count)> _windows = new();

    public bool TryAcquire(string key, int perMinute)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        if (_windows.Count > 100_000) foreach (var k in _windows.Where(kv => kv.Value.Minute < minute).Select(kv => kv.Key).ToList()) _windows.TryRemove(k, out _);
        var updated = _windows.AddOrUpdate(key, _ => (minute, 1), (_, w) => w.Minute == minute ? (minute, w.Count + 1) : (minute, 1));
        return updated.Count <= perMinute;
    }
}

public static class RateLimitProblems
{
    /// <summary>429 with Retry-After: the one answer for every per-minute limit.</summary>
    public static IResult RateLimited(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "60";
        return new ApiProblem(429, "rate_limited", "Too many requests.", "Try again in a minute.").ToResult();
    }
}
