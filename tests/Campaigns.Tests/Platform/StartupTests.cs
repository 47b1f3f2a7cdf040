using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Campaigns.Tests.Platform;

public sealed class StartupTests
{
    [Theory]
    [InlineData("Auth:Audience", "", "Auth__Audience")]
    [InlineData("Auth:DevSigningKey", "short", "Auth__DevSigningKey")]
    [InlineData("AzureWebJobsStorage", "", "AzureWebJobsStorage")]
    public async Task A_missing_or_invalid_setting_stops_start_up_with_its_name(string key, string value, string named)
    {
        var settings = TestApp.Settings(Azurite.Instance);
        settings[key] = value;
        var app = CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings));
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(named, string.Join(" ", e.Failures));
        await app.DisposeAsync();
    }

    [Fact]
    public async Task The_openapi_document_lists_the_campaigns_api()
    {
        await using var app = await TestApp.StartAsync();
        var doc = await (await app.Client.GetAsync("/api/openapi.json")).Json();
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/campaigns", out _));
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/public/campaigns/{id}", out _));
    }
}
