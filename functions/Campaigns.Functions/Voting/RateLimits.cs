using System.Collections.Concurrent;
using System.Net;

namespace Campaigns.Voting;

/// <summary>
/// In-memory token buckets per instance. Per fan (authenticated subject, per campaign): a hard limit. Per IP: a soft
/// limit — over it a vote needs a CAPTCHA instead of being refused, so a shared network (campus, office, mobile
/// carrier NAT) is never locked out. IPv6 clients are grouped per /64 (one subscriber), IPv4 per address.
/// </summary>
public sealed class VoteRateLimits(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new();
    private long _lastSweep;

    public bool TryFan(string campaign, string fan, int perMinute) => Take("f|" + campaign + "|" + fan, perMinute);

    public bool TryIp(IPAddress? ip, int perMinute) => ip is null || Take("i|" + IpKey(ip), perMinute);

    public static string IpKey(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return ip.ToString();
        var bytes = ip.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private bool Take(string key, int perMinute)
    {
        var now = time.GetTimestamp();
        Sweep(now);
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(perMinute, now));
        lock (bucket)
        {
            var elapsed = time.GetElapsedTime(bucket.Stamp, now).TotalMinutes;
            bucket.Tokens = Math.Min(perMinute, bucket.Tokens + elapsed * perMinute);
            bucket.Stamp = now;
            if (bucket.Tokens < 1) return false;
            bucket.Tokens -= 1;
            return true;
        }
    }

    // Buckets refilled to full carry no information; drop them so memory stays bounded under many fans.
    private void Sweep(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (time.GetElapsedTime(last, now) < TimeSpan.FromMinutes(1) || Interlocked.CompareExchange(ref _lastSweep, now, last) != last) return;
        foreach (var (key, b) in _buckets)
            if (time.GetElapsedTime(b.Stamp, now) > TimeSpan.FromMinutes(2)) _buckets.TryRemove(key, out _);
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }
}
