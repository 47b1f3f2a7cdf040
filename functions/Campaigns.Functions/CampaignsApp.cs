using Campaigns.Campaigns;
using Campaigns.DataRights;
using Campaigns.Demo;
using Campaigns.Episodes;
using Campaigns.Fans;
using Campaigns.Hosting;
using Campaigns.Judging;
using Campaigns.Moderation;
using Campaigns.Platform;
using Campaigns.Privacy;
using Campaigns.Winners;
using Campaigns.Submissions;
using Campaigns.Voting;
using Campaigns.Workspaces;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Campaigns;

public sealed class HostingOptions
{
    /// <summary>True without the Functions host: the program then runs its own queue and timer triggers.</summary>
    public bool Standalone { get; set; } = true;

    /// <summary>
    /// Standalone only: how long a received queue message stays invisible while its handler runs. A message held by a
    /// process that dies comes back after this; local fault tests shorten it so a killed worker's batch returns in seconds.
    /// </summary>
    public int QueueLeaseSeconds { get; set; } = 300;
}

public sealed class HostingOptionsValidator : IValidateOptions<HostingOptions>
{
    // A queue visibility timeout is at most 7 days; under a second a message would come back while still being handled.
    public const int MaxQueueLeaseSeconds = 7 * 24 * 3600;

    public ValidateOptionsResult Validate(string? name, HostingOptions o)
        => o.QueueLeaseSeconds is < 1 or > MaxQueueLeaseSeconds
            ? ValidateOptionsResult.Fail($"Setting 'Hosting__QueueLeaseSeconds' must be 1..{MaxQueueLeaseSeconds}.")
            : ValidateOptionsResult.Success;
}

/// <summary>The program: the table of contents of the app, one line per capability.</summary>
public static class CampaignsApp
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AddLocalSettings(builder);
        var handlerPort = builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"];
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = RequestLimits.MaxBodyBytes;
            k.AddServerHeader = false;
            if (int.TryParse(handlerPort, out var port)) k.Listen(System.Net.IPAddress.Loopback, port);
        });
        if (handlerPort is null && string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);

        var s = builder.Services;
        s.AddOptions<HostingOptions>().Configure(o =>
        {
            o.Standalone = handlerPort is null;
            if (bool.TryParse(builder.Configuration["Hosting:Standalone"], out var standalone)) o.Standalone = standalone;
            if (builder.Configuration["Hosting:QueueLeaseSeconds"] is { Length: > 0 } lease)
                o.QueueLeaseSeconds = int.TryParse(lease, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : -1;
        }).ValidateOnStart();
        s.AddSingleton<IValidateOptions<HostingOptions>, HostingOptionsValidator>();
        s.Configure<JsonOptions>(o => JsonDefaults.Configure(o.SerializerOptions));
        s.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        s.AddProblemDetails();
        s.AddExceptionHandler<ProblemExceptionHandler>();
        s.AddOpenApi();
        builder.AddCampaignsAuth();
        builder.AddCampaignsTelemetry();
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton<MinuteRateLimiter>();

        s.AddOptions<StorageOptions>().Configure(o => StorageOptions.Bind(o, builder.Configuration)).ValidateOnStart();
        s.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        s.AddSingleton<StorageClients>();
        s.AddSingleton<StorageInitializer>();
        s.AddSingleton<FunctionCatalog>();
        s.AddSingleton<FunctionInvoker>();
        s.AddSingleton<InvocationGuard>();
        s.AddOptions<ClientAddressOptions>().Bind(builder.Configuration.GetSection("ClientAddress")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<ClientAddressOptions>, ClientAddressOptionsValidator>();
        s.AddSingleton<ClientAddresses>();
        s.AddOptions<WebhookOptions>().Bind(builder.Configuration.GetSection("Webhooks")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        s.AddSingleton<IWebhookResolver, DnsWebhookResolver>();
        s.AddSingleton(_ => HostQueueSettings.Load(Path.Combine(AppContext.BaseDirectory, "host.json")));
        s.AddHostedService<StartupTasks>();
        s.AddHostedService<StandaloneQueuePoller>();
        s.AddHostedService<StandaloneTimers>();
        // Every HTTP route is served by one proxied HTTP function; the handler routes and authorises.
        s.AddFunction(new FunctionDefinition("Api", new HttpTrigger("{*path}", ["get", "post", "put", "patch", "delete"])));

        // Capabilities: one Add… and one Map… line each.
        builder.AddWorkspaces();
        builder.AddCampaigns();
        builder.AddFans();
        builder.AddDemo();
        builder.AddModeration();
        builder.AddJudging();
        builder.AddWinners();
        builder.AddEpisodes();
        builder.AddSubmissions();
        builder.AddVoting();
        builder.AddPrivacy();
        builder.AddDataRights();
        builder.AddPoisonRedrive();

        customize?.Invoke(builder);

        var app = builder.Build();
        DeploymentGuard.ThrowIfUnsafe(builder.Configuration);
        app.UseExceptionHandler();
        app.UseStatusCodePages(StatusCodeProblems.WriteAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(WorkspaceAccess.Middleware);

        app.MapGet("/", () => Results.Ok(new { service = "campaigns" })).AllowAnonymous().ExcludeFromDescription();
        app.MapOpenApi("/api/openapi.json").AllowAnonymous();
        app.MapHealth();
        app.MapFunctionInvocations();
        app.MapWorkspaces();
        app.MapCampaigns();
        app.MapFans();
        app.MapModeration();
        app.MapJudging();
        app.MapWinners();
        app.MapEpisodes();
        app.MapSubmissions();
        app.MapVoting();
        app.MapDataRights();
        app.MapPoisonRedrive();
        return app;
    }

    private static void AddLocalSettings(WebApplicationBuilder builder)
    {
        // local.settings.json sits below environment variables and the command line, as under the Functions host.
        var file = builder.Configuration["LocalSettingsPath"] ?? Path.Combine(Directory.GetCurrentDirectory(), "local.settings.json");
        var values = LocalSettings.Read(file);
        if (values.Count == 0) return;
        var sources = builder.Configuration.Sources;
        var index = sources.ToList().FindIndex(x => x is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource);
        var source = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = values };
        if (index < 0) sources.Insert(0, source); else sources.Insert(index, source);
    }

}

/// <summary>Creates storage and runs one-off start tasks before the triggers start polling.</summary>
internal sealed class StartupTasks(StorageInitializer storage, IEnumerable<IStartupTask> tasks) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await storage.EnsureCreatedAsync(ct);
        foreach (var task in tasks) await task.RunAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

public interface IStartupTask
{
    Task RunAsync(CancellationToken ct);
}

internal static class StatusCodeProblems
{
    public static Task WriteAsync(StatusCodeContext context)
    {
        var status = context.HttpContext.Response.StatusCode;
        var problem = status switch
        {
            401 => new ApiProblem(401, "unauthorized", "Sign in to call this endpoint.", "A valid bearer token for this audience is required."),
            403 => new ApiProblem(403, "forbidden", "Your role may not call this endpoint."),
            404 => new ApiProblem(404, "not_found", "No such endpoint."),
            405 => new ApiProblem(405, "method_not_allowed", "This method is not allowed here."),
            413 => new ApiProblem(413, "body_too_large", "The request body is too large.", $"Bodies are limited to {RequestLimits.MaxBodyBytes / 1024} KiB."),
            415 => new ApiProblem(415, "unsupported_media_type", "Send the body as application/json."),
            _ => new ApiProblem(status, "http_" + status, "The request failed."),
        };
        return problem.ToResult().ExecuteAsync(context.HttpContext);
    }
}
