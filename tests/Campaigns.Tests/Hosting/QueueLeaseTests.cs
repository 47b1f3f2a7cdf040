using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Campaigns.Tests.Hosting;

/// <summary>Hosting__QueueLeaseSeconds: how long the standalone poller holds a message (and a dead process keeps it).</summary>
public sealed class QueueLeaseTests
{
    private static HostingOptions Options(string? lease) => CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], b =>
    {
        b.Configuration.AddInMemoryCollection(TestApp.Settings(Azurite.Instance));
        if (lease is not null) b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Hosting:QueueLeaseSeconds"] = lease });
    }).Services.GetRequiredService<IOptions<HostingOptions>>().Value;

    [Fact]
    public void The_lease_defaults_to_five_minutes_and_takes_a_setting()
    {
        Assert.Equal(300, Options(null).QueueLeaseSeconds);
        Assert.Equal(2, Options("2").QueueLeaseSeconds);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("604801")]
    [InlineData("5m")]
    public void A_lease_outside_one_second_to_seven_days_is_refused_naming_the_setting(string lease)
    {
        var e = Assert.Throws<OptionsValidationException>(() => Options(lease));
        Assert.Contains("Hosting__QueueLeaseSeconds", e.Message);
    }
}
