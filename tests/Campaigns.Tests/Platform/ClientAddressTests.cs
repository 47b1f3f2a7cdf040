using System.Net;
using Campaigns.Platform;

namespace Campaigns.Tests.Platform;

/// <summary>The forwarded-header walk as a pure function: every form the proxies in front of us write.</summary>
public sealed class ClientAddressTests
{
    private static readonly IPAddress Host = IPAddress.Loopback;
    private static bool LoopbackOnly(IPAddress ip) => ClientAddress.IsIn(ip, ClientAddress.Loopback);

    [Theory]
    [InlineData("198.51.100.7", "198.51.100.7")]
    [InlineData("198.51.100.7:50123", "198.51.100.7")]
    [InlineData("  198.51.100.7:1  ", "198.51.100.7")]
    [InlineData("2001:db8::7", "2001:db8::7")]
    [InlineData("[2001:db8::7]", "2001:db8::7")]
    [InlineData("[2001:db8::7]:443", "2001:db8::7")]
    [InlineData("::ffff:198.51.100.7", "198.51.100.7")]
    [InlineData("[::ffff:198.51.100.7]:8080", "198.51.100.7")]
    public void Parses_each_node_form(string node, string expected) => Assert.Equal(IPAddress.Parse(expected), ClientAddress.ParseNode(node));

    [Theory]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("_hidden")]
    [InlineData("1")]
    [InlineData("example.com:80")]
    [InlineData("198.51.100.7:")]
    [InlineData("198.51.100.7:99999")]
    [InlineData("198.51.100.7:port")]
    [InlineData("[2001:db8::7")]
    [InlineData("[2001:db8::7]x")]
    [InlineData("fe80::1%eth0")]
    public void Refuses_what_is_not_an_address(string node) => Assert.Null(ClientAddress.ParseNode(node));

    [Theory]
    [InlineData("198.51.100.7:50123", "198.51.100.7")]
    [InlineData("203.0.113.9, 198.51.100.7:50123", "198.51.100.7")] // the left entry was written by the client
    [InlineData("203.0.113.9,198.51.100.7", "198.51.100.7")]
    [InlineData("[2001:db8::1]:1, [2001:db8::7]:50123", "2001:db8::7")]
    [InlineData("198.51.100.7, 127.0.0.1:1234", "198.51.100.7")] // a trusted hop is skipped
    public void X_forwarded_for_takes_the_right_most_untrusted_address(string header, string expected)
        => Assert.Equal(IPAddress.Parse(expected), ClientAddress.Resolve(Host, header, false, LoopbackOnly));

    [Theory]
    [InlineData("for=198.51.100.7", "198.51.100.7")]
    [InlineData("for=\"198.51.100.7:4711\"", "198.51.100.7")]
    [InlineData("For=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17")]
    [InlineData("for=\"[2001:db8:cafe::17]\";proto=https;by=203.0.113.43", "2001:db8:cafe::17")]
    [InlineData("for=203.0.113.9, for=198.51.100.7;proto=http", "198.51.100.7")]
    [InlineData("proto=https;for=198.51.100.7;host=\"a,b\"", "198.51.100.7")]
    public void Forwarded_for_takes_the_right_most_untrusted_address(string header, string expected)
        => Assert.Equal(IPAddress.Parse(expected), ClientAddress.Resolve(Host, header, true, LoopbackOnly));

    [Fact]
    public void An_untrusted_peer_is_the_client_whatever_it_claims()
        => Assert.Equal(IPAddress.Parse("192.0.2.1"), ClientAddress.Resolve(IPAddress.Parse("192.0.2.1"), "198.51.100.7", false, LoopbackOnly));

    [Fact]
    public void Standalone_without_trusted_proxies_ignores_forwarded_headers_from_loopback()
        => Assert.Equal(Host, ClientAddress.Resolve(Host, "198.51.100.7", false, _ => false));

    [Fact]
    public void An_unparsable_entry_stops_at_the_last_trusted_hop_instead_of_believing_what_lies_left_of_it()
    {
        Assert.Equal(Host, ClientAddress.Resolve(Host, "198.51.100.7, unknown", false, LoopbackOnly));
        Assert.Equal(Host, ClientAddress.Resolve(Host, "for=198.51.100.7, for=_gateway", true, LoopbackOnly));
    }

    [Fact]
    public void Configured_networks_are_walked_through_hop_by_hop()
    {
        var trusted = ClientAddress.ParseNetworks("10.0.0.0/8, 127.0.0.1, ::1")!;
        Assert.Equal(IPAddress.Parse("198.51.100.7"),
            ClientAddress.Resolve(Host, "203.0.113.9, 198.51.100.7:1, 10.1.2.3", false, ip => ClientAddress.IsIn(ip, trusted)));
        Assert.Null(ClientAddress.ParseNetworks("10.0.0.0/8, nonsense"));
        Assert.Empty(ClientAddress.ParseNetworks("")!);
    }
}
