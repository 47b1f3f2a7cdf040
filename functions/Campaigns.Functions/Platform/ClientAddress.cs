using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Campaigns.Platform;

/// <summary>Settings of the ClientAddress section: which hops in front of the app may tell it the client's address.</summary>
public sealed class ClientAddressOptions
{
    /// <summary>
    /// Comma-separated networks (CIDR or single addresses) of proxies whose forwarded header is believed. Empty: under
    /// the Functions host its own loopback hop; standalone nobody (a direct caller could otherwise pick any address).
    /// </summary>
    public string TrustedProxies { get; set; } = "";
    /// <summary>The header the trusted proxies write: X-Forwarded-For (the Functions host) or Forwarded (RFC 7239).</summary>
    public string Header { get; set; } = ClientAddress.XForwardedFor;
}

public sealed class ClientAddressOptionsValidator : IValidateOptions<ClientAddressOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientAddressOptions o)
    {
        var errors = new List<string>();
        if (ClientAddress.ParseNetworks(o.TrustedProxies) is null)
            errors.Add("Setting 'ClientAddress__TrustedProxies' must list networks like 10.0.0.0/8, 2001:db8::/32 or single addresses, comma-separated.");
        if (!string.Equals(o.Header, ClientAddress.XForwardedFor, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(o.Header, ClientAddress.Forwarded, StringComparison.OrdinalIgnoreCase))
            errors.Add("Setting 'ClientAddress__Header' must be 'X-Forwarded-For' or 'Forwarded'.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// The client's address for per-IP limits. Proxies append the address they saw to the right of a forwarded header, so
/// walking from the connection's peer leftwards through trusted hops, the first untrusted address is the client as
/// seen by the last proxy we trust; anything further left was written by the client itself and can be spoofed.
/// Behind the Functions host the App Service front end writes <c>ip:port</c>, which a plain IP parser rejects.
/// </summary>
public sealed class ClientAddresses
{
    private readonly IReadOnlyList<IPNetwork> _trusted;
    private readonly string _header;

    public ClientAddresses(IOptions<ClientAddressOptions> options, IOptions<global::Campaigns.HostingOptions> hosting)
    {
        var configured = ClientAddress.ParseNetworks(options.Value.TrustedProxies) ?? [];
        // The Functions host forwards over loopback on the same instance: its hop is the one we always run behind.
        _trusted = configured.Count == 0 && !hosting.Value.Standalone ? ClientAddress.Loopback : configured;
        _header = options.Value.Header;
    }

    public IPAddress? Of(HttpContext http)
        => ClientAddress.Resolve(http.Connection.RemoteIpAddress, http.Request.Headers[_header].ToString(),
            string.Equals(_header, ClientAddress.Forwarded, StringComparison.OrdinalIgnoreCase), ip => ClientAddress.IsIn(ip, _trusted));
}

/// <summary>Pure parsing and the right-most-untrusted walk (unit-tested without a server).</summary>
public static class ClientAddress
{
    public const string XForwardedFor = "X-Forwarded-For", Forwarded = "Forwarded";

    public static readonly IReadOnlyList<IPNetwork> Loopback = [IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")];

    /// <summary>
    /// The right-most address not from a trusted hop. The chain is the header's entries followed by the peer. An entry
    /// that cannot be parsed (<c>unknown</c>, an obfuscated <c>_node</c>) ends the walk at the last trusted hop: that
    /// proxy's address is shared by everyone behind it, which limits too much rather than letting a spoof through.
    /// </summary>
    public static IPAddress? Resolve(IPAddress? peer, string? header, bool rfc7239, Func<IPAddress, bool> trusted)
    {
        if (peer is null) return null;
        peer = Normalize(peer);
        if (!trusted(peer) || string.IsNullOrWhiteSpace(header)) return peer;
        var entries = rfc7239 ? ForwardedFors(header) : header.Split(',').Select(e => e.Trim()).ToList();
        var current = peer;
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            if (ParseNode(entries[i]) is not { } ip) return current;
            current = ip;
            if (!trusted(ip)) return ip;
        }
        return current;
    }

    /// <summary>The for= values of an RFC 7239 Forwarded header, in order, with quotes removed.</summary>
    public static List<string> ForwardedFors(string header)
    {
        var result = new List<string>();
        foreach (var element in SplitOutsideQuotes(header, ','))
        {
            string? value = null;
            foreach (var pair in SplitOutsideQuotes(element, ';'))
            {
                var eq = pair.IndexOf('=');
                if (eq > 0 && pair[..eq].Trim().Equals("for", StringComparison.OrdinalIgnoreCase)) value = pair[(eq + 1)..].Trim();
            }
            // An element without for= is a hop that did not say: it cannot be skipped as trusted, so it stops the walk.
            result.Add(value is { Length: >= 2 } && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value ?? "");
        }
        return result;
    }

    /// <summary>One node: <c>ip</c>, <c>ip:port</c>, <c>[v6]</c>, <c>[v6]:port</c> or a bare IPv6 address; null for anything else.</summary>
    public static IPAddress? ParseNode(string node)
    {
        node = node.Trim();
        if (node.Length == 0 || node.Length > 64) return null;
        string host;
        if (node[0] == '[')
        {
            var close = node.IndexOf(']');
            if (close < 0) return null;
            var rest = node[(close + 1)..];
            if (rest.Length > 0 && !(rest[0] == ':' && IsPort(rest[1..]))) return null;
            host = node[1..close];
        }
        else if (node.Count(c => c == ':') == 1)
        {
            var colon = node.IndexOf(':');
            if (!IsPort(node[(colon + 1)..])) return null;
            host = node[..colon];
        }
        else host = node;
        // A zone id (%eth0) or a hostname is not a client address; IPAddress.TryParse would accept "1" as 0.0.0.1.
        if (host.Contains('%') || (!host.Contains(':') && host.Count(c => c == '.') != 3)) return null;
        return IPAddress.TryParse(host, out var ip) ? Normalize(ip) : null;
    }

    public static IPAddress Normalize(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    public static bool IsIn(IPAddress ip, IReadOnlyList<IPNetwork> networks)
    {
        ip = Normalize(ip);
        foreach (var n in networks)
            if (n.BaseAddress.AddressFamily == ip.AddressFamily && n.Contains(ip)) return true;
        return false;
    }

    /// <summary>Networks from a comma-separated list; a single address means just that host. Null when one is invalid.</summary>
    public static IReadOnlyList<IPNetwork>? ParseNetworks(string? list)
    {
        var result = new List<IPNetwork>();
        foreach (var item in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(item, out var n)) result.Add(n);
            else if (IPAddress.TryParse(item, out var ip))
                result.Add(new IPNetwork(Normalize(ip), Normalize(ip).AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            else return null;
        }
        return result;
    }

    private static bool IsPort(string s) => s.Length is > 0 and <= 5 && s.All(char.IsAsciiDigit) && int.Parse(s) <= 65535;

    private static IEnumerable<string> SplitOutsideQuotes(string s, char separator)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '"') quoted = !quoted;
            else if (s[i] == separator && !quoted)
            {
                yield return s[start..i];
                start = i + 1;
            }
        }
        yield return s[start..];
    }
}
