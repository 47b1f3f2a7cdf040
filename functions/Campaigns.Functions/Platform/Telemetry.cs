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

    /// <summary>The matched route template (e.g. /api/moderation/campaigns/{campaignId}/fans/{fanId}/block), never the raw path.</summary>
    public static string RouteOf(HttpContext http)
        // While an exception is handled the endpoint is cleared; the feature keeps the one that failed.
        => ((http.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint()) as RouteEndpoint)
            ?.RoutePattern.RawText ?? "(unmatched)";

    /// <summary>
    /// A storage URL down to its account and resource (table, queue, container): entity keys, blob names and the query
    /// (SAS signatures) name fans and grant access, so they never reach telemetry.
    /// </summary>
    public static string RedactStorageUrl(Uri uri)
    {
        // Azurite and other emulators name the account in the path (path-style: an IP or localhost host); Azure in the host.
        var pathStyle = uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.IsLoopback;
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Take(pathStyle ? 2 : 1)
            .Select(s => s.IndexOf('(') is var i and >= 0 ? s[..i] : s);
        return $"{uri.Scheme}://{uri.Authority}/{string.Join('/', segments)}";
    }

    /// <summary>A queue receive (GET …/messages): what the triggers send every few seconds while idle.</summary>
    public static bool IsQueuePoll(HttpRequestMessage request)
        => request.Method == HttpMethod.Get && request.RequestUri?.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal) == true;

    public static void AddCampaignsTelemetry(this WebApplicationBuilder builder)
    {
        var exporter = (builder.Configuration["Telemetry:Exporter"] ?? "none").ToLowerInvariant();
        if (exporter is not ("none" or "console" or "otlp" or "azuremonitor"))
            throw new StartupException("Setting 'Telemetry__Exporter' must be one of none, console, otlp, azuremonitor.");
        if (exporter == "none") return;
        var otel = builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(Name, "Campaigns.Functions")
                .AddAspNetCoreInstrumentation(o =>
                {
                    // Paths carry fan ids, subjects and entry ids; spans keep the route template instead, never a body.
                    o.EnrichWithHttpResponse = (activity, response) =>
                    {
                        activity.SetTag("url.path", RouteOf(response.HttpContext));
                        activity.SetTag("url.query", null);
                    };
                })
                .AddHttpClientInstrumentation(o =>
                {
                    // An idle instance polls its queues every few seconds: one span per empty poll is noise, not signal.
                    o.FilterHttpRequestMessage = request => !IsQueuePoll(request);
                    o.EnrichWithHttpRequestMessage = (activity, request) =>
                    {
                        if (request.RequestUri is { } uri) activity.SetTag("url.full", RedactStorageUrl(uri));
                    };
                }))
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
