using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Campaigns;

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

public sealed class HostModeTests
{
    [Fact]
    public async Task Under_the_functions_host_it_listens_on_the_handler_port_and_runs_no_standalone_triggers()
    {
        var port = Azurite.FreePort();
        var settings = TestApp.Settings(Azurite.Instance);
        var app = CampaignsApp.Build([$"--FUNCTIONS_CUSTOMHANDLER_PORT={port}"], b => b.Configuration.AddInMemoryCollection(settings));
        await app.StartAsync();
        try
        {
            Assert.False(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostingOptions>>().Value.Standalone);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(200, (int)(await client.GetAsync("/")).StatusCode);
            Assert.Equal(200, (int)(await client.GetAsync("/api/health")).StatusCode);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("console")]
    [InlineData("otlp")]
    [InlineData("none")]
    public void Telemetry_exporters_are_accepted(string exporter)
    {
        var settings = TestApp.Settings(Azurite.Instance);
        settings["Telemetry:Exporter"] = exporter;
        var app = CampaignsApp.Build(["--urls", "http://127.0.0.1:0", $"--Telemetry:Exporter={exporter}"]);
        Assert.NotNull(app.Services.GetService<FunctionCatalog>());
    }

    [Fact]
    public void An_unknown_exporter_or_azure_monitor_without_a_connection_string_stops_start_up()
    {
        var e = Assert.Throws<StartupException>(() => CampaignsApp.Build(["--Telemetry:Exporter=zipkin"]));
        Assert.Contains("Telemetry__Exporter", e.Message);
        var e2 = Assert.Throws<StartupException>(() => CampaignsApp.Build(["--Telemetry:Exporter=azuremonitor"]));
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", e2.Message);
    }
}
