using System.Net.Http.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Voting;

/// <summary>Per-IP limits see each fan's own address behind the Functions host, which forwards it as ip:port.</summary>
public sealed class ClientAddressApiTests
{
    [Fact]
    public async Task Two_fans_behind_the_functions_host_with_ip_port_headers_get_separate_ip_buckets()
    {
        // Hosting:Standalone=false is how the app runs under the host: the loopback hop is the host's and is trusted.
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings(("Voting:PerIpPerMinute", "1"), ("Hosting:Standalone", "false")));
        var id = await VotingKit.CampaignAsync(app, DateTimeOffset.UtcNow);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(mode: "lastWins"));
        Task<HttpResponseMessage> Vote(string fan, string xff)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/rounds/r1/votes")
            { Content = JsonContent.Create(new { choices = new[] { new { category = "colour", option = "red" } } }) };
            req.Headers.Add("X-Forwarded-For", xff);
            req.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
            return app.As("fan", fan).SendAsync(req);
        }

        var first = await Vote("fan-a", "198.51.100.10:50123");
        Assert.Equal(202, (int)first.StatusCode);
        var second = await Vote("fan-b", "203.0.113.20:40111");
        Assert.True(202 == (int)second.StatusCode, "fan-b shares fan-a's bucket: " + await second.Content.ReadAsStringAsync());
        // The same address again is over its budget of one: the limit works, per address.
        await (await Vote("fan-c", "[2001:db8::1]:1, 198.51.100.10:50999")).Problem(429, "captcha_required");
    }
}
