using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Campaigns.Platform;

/// <summary>Settings of the Webhooks section, shared by every outgoing webhook.</summary>
public sealed class WebhookOptions
{
    /// <summary>
    /// Test and local only: allow plain http to a loopback receiver (the tests' local receivers). The start guard
    /// refuses it in Azure: a loopback webhook reaches the app's own trigger endpoints and the Functions host.
    /// </summary>
    public bool AllowHttpLoopback { get; set; }
    /// <summary>Whole-request timeout of one delivery; a receiver that is slower has failed this attempt.</summary>
    public int TimeoutSeconds { get; set; } = 10;
}

public sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions o)
        => o.TimeoutSeconds is < 1 or > 60 ? ValidateOptionsResult.Fail("Setting 'Webhooks__TimeoutSeconds' must be 1..60.") : ValidateOptionsResult.Success;
}

/// <summary>Resolves a webhook host; injected so tests can play DNS (rebinding included) without a network.</summary>
public interface IWebhookResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct);
}

public sealed class DnsWebhookResolver : IWebhookResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);
}

/// <summary>
/// Where a webhook may go. A brand's webhook URL is typed by a marketer: pointed at loopback it reaches the app's own
/// trigger endpoints and the Functions host, at 169.254.169.254 the instance's metadata (managed identity tokens), at
/// private ranges the internal network. The URL is checked when saved and the address again at connect time, on the
/// address actually connected to — a name that resolved to a public address when saved can resolve elsewhere later.
/// </summary>
public static class WebhookAddress
{
    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("2002::/16"),
    ];

    /// <summary>True for loopback, private (RFC 1918, CGNAT, ULA), link-local (metadata), unspecified, multicast and reserved addresses.</summary>
    public static bool IsForbidden(IPAddress ip)
    {
        ip = Unwrap(ip);
        foreach (var n in Forbidden)
            if (n.BaseAddress.AddressFamily == ip.AddressFamily && n.Contains(ip)) return true;
        return false;
    }

    /// <summary>Allowed when not forbidden, or when loopback and the test-only setting allows it.</summary>
    public static bool IsAllowed(IPAddress ip, bool allowLoopback) => !IsForbidden(ip) || (allowLoopback && IPAddress.IsLoopback(Unwrap(ip)));

    // ::ffff:10.0.0.1 and the deprecated ::10.0.0.1 reach the IPv4 address: judge that one.
    private static IPAddress Unwrap(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) return ip.MapToIPv4();
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && !ip.Equals(IPAddress.IPv6Loopback) && !ip.Equals(IPAddress.IPv6Any))
        {
            var b = ip.GetAddressBytes();
            if (b.Take(12).All(x => x == 0)) return new IPAddress(b[12..]);
        }
        return ip;
    }

    /// <summary>Checks a URL as typed: https, no credentials, an IP literal host must be allowed. Null when fine.</summary>
    public static string? CheckUrl(string url, bool allowHttpLoopback)
    {
        if (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var u)) return "Give an absolute URL.";
        if (!string.IsNullOrEmpty(u.UserInfo)) return "Leave credentials out of the URL.";
        var literal = IPAddress.TryParse(u.IdnHost.Trim('[', ']'), out var ip) ? ip : null;
        var loopback = u.IsLoopback;
        if (u.Scheme != Uri.UriSchemeHttps && !(allowHttpLoopback && loopback && u.Scheme == Uri.UriSchemeHttp)) return "Use https.";
        if (literal is not null && !IsAllowed(literal, allowHttpLoopback))
            return "The address is loopback, private, link-local or reserved: use a public receiver.";
        if (literal is null && loopback && !allowHttpLoopback) return "The address is loopback: use a public receiver.";
        return null;
    }
}

/// <summary>The one HTTP handler every webhook client uses: no redirects, checked address at connect, bounded response.</summary>
public static class WebhookHttp
{
    public const int MaxResponseHeaderKiB = 16;
    public const long MaxResponseBytes = 64 * 1024;

    public static void AddWebhookClient(this IServiceCollection s, string name)
    {
        s.AddHttpClient(name, (sp, c) =>
            {
                c.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.TimeoutSeconds);
                c.MaxResponseContentBufferSize = MaxResponseBytes;
            })
            .ConfigurePrimaryHttpMessageHandler(sp => Handler(sp.GetRequiredService<IWebhookResolver>(),
                sp.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowHttpLoopback));
    }

    public static SocketsHttpHandler Handler(IWebhookResolver resolver, bool allowLoopback) => new()
    {
        // A 3xx is a failed delivery: following it would let a public receiver bounce us to an internal address.
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        MaxResponseHeadersLength = MaxResponseHeaderKiB,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = (context, ct) => ConnectAsync(resolver, allowLoopback, context.DnsEndPoint, ct),
    };

    /// <summary>Resolves once, refuses if any address is not allowed, and connects to the address it checked.</summary>
    public static async ValueTask<Stream> ConnectAsync(IWebhookResolver resolver, bool allowLoopback, DnsEndPoint endpoint, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal) ? [literal] : await resolver.ResolveAsync(endpoint.Host, ct);
        if (addresses.Length == 0) throw new HttpRequestException($"Webhook host {endpoint.Host} has no address.");
        // Any forbidden answer refuses the whole name: mixing a public and an internal record is how rebinding is tried.
        if (addresses.FirstOrDefault(a => !WebhookAddress.IsAllowed(a, allowLoopback)) is { } bad)
            throw new HttpRequestException($"Webhook host {endpoint.Host} resolves to a forbidden address ({bad}).");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(addresses[0], endpoint.Port), ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Standard Webhooks signing (standardwebhooks.com): secrets are <c>whsec_</c> + Base64 of 32 random bytes, the key is
/// the decoded bytes, each signature is <c>v1,</c> + Base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), and the
/// header carries one per valid secret, space-separated, so a receiver keeps working across a rotation.
/// </summary>
public static class StandardWebhook
{
    public const string Prefix = "whsec_";

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static byte[] Key(string secret) => Convert.FromBase64String(secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret);

    public static string Sign(string secret, string id, long timestamp, string body)
        => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Key(secret),
            System.Text.Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{body}")));

    public static string Header(IEnumerable<string> secrets, string id, long timestamp, string body)
        => string.Join(' ', secrets.Select(s => Sign(s, id, timestamp, body)));

    /// <summary>Adds webhook-id, webhook-timestamp and webhook-signature.</summary>
    public static void AddHeaders(HttpRequestMessage request, IEnumerable<string> secrets, string id, long timestamp, string body)
    {
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", Header(secrets, id, timestamp, body));
    }

    public static bool Verify(string secret, string id, long timestamp, string body, string header, DateTimeOffset now, TimeSpan tolerance)
    {
        if (Math.Abs(now.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds) return false;
        var expected = System.Text.Encoding.ASCII.GetBytes(Sign(secret, id, timestamp, body));
        return header.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(s => CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(s), expected));
    }

    public static bool IsSecret(string? s)
    {
        if (s is null || !s.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        try { return Key(s).Length is >= 24 and <= 64; }
        catch (FormatException) { return false; }
    }
}

/// <summary>
/// An endpoint's signing secrets: the primary signs; after a rotation the previous one also signs until
/// <see cref="PreviousUntil"/> (or until removed), so receivers can switch without a gap.
/// </summary>
public sealed record WebhookSecrets(string Primary, string? Previous, DateTimeOffset? PreviousUntil, DateTimeOffset RotatedAt, string? RotationKey = null)
{
    public static WebhookSecrets New(DateTimeOffset now) => new(StandardWebhook.NewSecret(), null, null, now);

    public IReadOnlyList<string> Signing(DateTimeOffset now)
        => Previous is not null && (PreviousUntil is null || now < PreviousUntil) ? [Primary, Previous] : [Primary];

    /// <summary>
    /// The secrets after a rotation. A rotation retried with its Idempotency-Key (<paramref name="key"/>) is the one already
    /// made: rotating twice would retire the secret receivers still use while the new one was never seen.
    /// </summary>
    public WebhookSecrets Rotate(string newSecret, DateTimeOffset now, TimeSpan overlap, string? key = null)
        => key is not null && key == RotationKey ? this
            : new(newSecret, overlap > TimeSpan.Zero ? Primary : null, overlap > TimeSpan.Zero ? now + overlap : null, now, key);

    public WebhookSecrets WithoutPrevious() => this with { Previous = null, PreviousUntil = null };
}
