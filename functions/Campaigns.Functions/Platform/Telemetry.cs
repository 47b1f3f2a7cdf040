using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Campaigns.Platform;

/// <summary>Where traces and metrics go: none, console (local), otlp, or azuremonitor (Application Insights with Entra auth).</summary>
public sealed class TelemetryOptions
{
    public string Exporter { get; set; } = "none";
}

public static class Telemetry
{
    public const string Name = "Campaigns";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static void AddCampaignsTelemetry(this WebApplicationBuilder builder)
    {
        var exporter = (builder.Configuration["Telemetry:Exporter"] ?? "none").ToLowerInvariant();
        if (exporter is not ("none" or "console" or "otlp" or "azuremonitor"))
            throw new StartupException("Setting 'Telemetry__Exporter' must be one of none, console, otlp, azuremonitor.");
        if (exporter == "none") return;
        var otel = builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(Name, "Campaigns.Functions").AddAspNetCoreInstrumentation().AddHttpClientInstrumentation())
            .WithMetrics(m => m.AddMeter(Name).AddAspNetCoreInstrumentation());
        switch (exporter)
        {
            case "console":
                otel.WithTracing(t => t.AddConsoleExporter()).WithMetrics(m => m.AddConsoleExporter());
                break;
            case "otlp":
                otel.WithTracing(t => t.AddOtlpExporter()).WithMetrics(m => m.AddOtlpExporter());
                break;
            case "azuremonitor":
                if (string.IsNullOrWhiteSpace(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
                    throw new StartupException("Setting 'APPLICATIONINSIGHTS_CONNECTION_STRING' is required when Telemetry__Exporter=azuremonitor.");
                var clientId = builder.Configuration["AzureWebJobsStorage:clientId"];
                otel.UseAzureMonitor(o =>
                {
                    // Local auth is off on the Application Insights resource: send with the app's managed identity.
                    if (!string.IsNullOrWhiteSpace(clientId))
                        o.Credential = new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.FromUserAssignedClientId(clientId));
                });
                break;
        }
    }
}

/// <summary>A configuration error found at start; the message names the setting.</summary>
public sealed class StartupException(string message) : Exception(message);
