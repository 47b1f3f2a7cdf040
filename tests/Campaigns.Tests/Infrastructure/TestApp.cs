using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Campaigns.Tests.Infrastructure;

/// <summary>The real program on a free loopback port, against the shared Azurite, driven over HTTP.</summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string DevKey = "test-dev-signing-key-0123456789abcdef-0123456789";
    public const string Audience = "campaigns-api";

    private TestApp(WebApplication app, Uri baseAddress, string workspaceId)
    {
        App = app;
        BaseAddress = baseAddress;
        WorkspaceId = workspaceId;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>This app's own workspace: staff clients from <see cref="As"/> are members of it with their role.</summary>
    public string WorkspaceId { get; }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => App.Services;
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public static Dictionary<string, string?> Settings(Azurite azurite) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["Auth:Audience"] = Audience,
        ["Auth:Issuer"] = "campaigns-dev",
        ["Auth:DevSigningKey"] = DevKey,
        ["Telemetry:Exporter"] = "none",
        ["Logging:LogLevel:Default"] = "Warning",
        // Each app gets its own work queues: apps of parallel tests share one Azurite, and a shared queue would let one
        // app's triggers take another's messages into its own (differently faked) capabilities.
        ["Submissions:ImagesQueue"] = "images-" + Guid.NewGuid().ToString("N")[..12],
        ["Voting:Queue"] = "votes-" + Guid.NewGuid().ToString("N")[..12],
        ["Winners:NotifyQueue"] = "notify-" + Guid.NewGuid().ToString("N")[..12],
        ["Episodes:WebhookQueue"] = "ewh-" + Guid.NewGuid().ToString("N")[..12],
        ["Moderation:ApplyQueue"] = "modapply-" + Guid.NewGuid().ToString("N")[..12],
        ["DataRights:ErasureQueue"] = "erase-" + Guid.NewGuid().ToString("N")[..12],
    };

    public static async Task<TestApp> StartAsync(Action<WebApplicationBuilder>? customize = null,
        IDictionary<string, string?>? settings = null)
    {
        var azurite = Azurite.Instance;
        var app = CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            var all = Settings(azurite);
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
            builder.Configuration.AddInMemoryCollection(all);
            customize?.Invoke(builder);
            // An app on a fake clock fires its tests' handlers explicitly. Its standalone timers would run every sweep
            // (slot expiry, print batches, …) at the fake instant over tables shared with the other tests' apps.
            var clock = builder.Services.LastOrDefault(d => d.ServiceType == typeof(TimeProvider));
            if (clock?.ImplementationInstance is { } instance && !ReferenceEquals(instance, TimeProvider.System))
                foreach (var d in builder.Services.Where(d => d.ImplementationType == typeof(global::Campaigns.Hosting.StandaloneTimers)).ToList())
                    builder.Services.Remove(d);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var workspaceId = "t-" + Guid.NewGuid().ToString("N")[..12];
        await EnsureWorkspaceAsync(workspaceId);
        return new TestApp(app, new Uri(address), workspaceId);
    }

    /// <summary>
    /// Mints a token. Workspace role names (owner, marketer, moderator, judge, viewer; "admin" means owner) mint a staff
    /// token: their authority comes from a membership (<see cref="As"/> adds it), never from the token.
    /// </summary>
    public static string Token(string role, string subject, TimeSpan? lifetime = null, string audience = Audience, DateTimeOffset? now = null)
        => DevTokens.Mint(new AuthOptions { Audience = audience, DevSigningKey = DevKey, Issuer = "campaigns-dev" }, TokenRole(role), subject,
            lifetime ?? TimeSpan.FromHours(1), now ?? DateTimeOffset.UtcNow);

    public static string TokenRole(string role) => WorkspaceRoleOf(role) is null ? role : Roles.Staff;

    public static WorkspaceRole? WorkspaceRoleOf(string role) => role switch
    {
        "owner" or "admin" => WorkspaceRole.Owner,
        "marketer" => WorkspaceRole.Marketer,
        "moderator" => WorkspaceRole.Moderator,
        "judge" => WorkspaceRole.Judge,
        "viewer" => WorkspaceRole.Viewer,
        _ => null,
    };

    /// <summary>Invokes a trigger the way the standalone runner would over HTTP: with this process's invocation key.</summary>
    public Task<HttpResponseMessage> InvokeAsync(string function, string payload)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/" + function)
        {
            Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(global::Campaigns.Hosting.InvocationGuard.KeyHeader, Service<global::Campaigns.Hosting.InvocationGuard>().Key);
        return Client.SendAsync(request);
    }

    /// <summary>A draft campaign in this app's workspace running every feature, for tests whose subject is not campaigns.</summary>
    public async Task<string> CampaignAsync(string? id = null)
    {
        id ??= "c-" + Guid.NewGuid().ToString("N")[..12];
        var now = Service<TimeProvider>().GetUtcNow();
        var input = new global::Campaigns.Campaigns.CampaignInput("Test campaign", "Brand", "Europe/Zurich", ["en", "fr"],
            [global::Campaigns.Campaigns.CampaignFeature.Voting, global::Campaigns.Campaigns.CampaignFeature.Submissions, global::Campaigns.Campaigns.CampaignFeature.Episodes]);
        await Service<global::Campaigns.Campaigns.CampaignStore>().CreateAsync(global::Campaigns.Campaigns.CampaignRules.Create(input, id, WorkspaceId, now), CancellationToken.None);
        return id;
    }

    /// <summary>A client that sends a bearer token for the role and subject; staff roles become members of this app's workspace.</summary>
    public HttpClient As(string role, string? subject = null) => ClientFor(BaseAddress, WorkspaceId, role, subject ?? $"{role}-{Guid.NewGuid():N}");

    /// <summary>A client for any running service (another process too) whose staff role is a membership in <paramref name="workspaceId"/>.</summary>
    public static HttpClient ClientFor(Uri baseAddress, string workspaceId, string role, string subject, TimeSpan? lifetime = null, DateTimeOffset? issuedAt = null)
    {
        EnsureMemberAsync(workspaceId, subject, role).GetAwaiter().GetResult();
        var c = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(role, subject, lifetime, now: issuedAt));
        return c;
    }

    private static readonly Lazy<WorkspaceStore> Workspaces = new(() =>
    {
        var clients = new StorageClients(Options.Create(new StorageOptions { ConnectionString = Azurite.Instance.ConnectionString }));
        clients.Tables.CreateTableIfNotExists(WorkspaceStore.WorkspacesTable);
        clients.Tables.CreateTableIfNotExists(WorkspaceStore.MembersTable);
        return new WorkspaceStore(clients);
    });

    public static async Task EnsureWorkspaceAsync(string workspaceId)
    {
        var now = DateTimeOffset.UtcNow;
        await Workspaces.Value.CreateAsync(new Workspace(workspaceId, "Test " + workspaceId, now, "tests"), null,
            new WorkspaceAuditEntry(workspaceId, now, "tests", "workspace.created", null, null), CancellationToken.None);
    }

    /// <summary>Makes the subject a member with the role's workspace role (no-op for fans, operators and plain staff).</summary>
    public static async Task EnsureMemberAsync(string workspaceId, string subject, string role)
    {
        if (WorkspaceRoleOf(role) is not { } r) return;
        var store = Workspaces.Value;
        if (await store.GetMemberAsync(workspaceId, subject, CancellationToken.None) is { } m && m.Role == r) return;
        var now = DateTimeOffset.UtcNow;
        await store.PutMemberAsync(new Membership(workspaceId, subject, r, null, now, "tests", now),
            new WorkspaceAuditEntry(workspaceId, now, "tests", "member.added", subject, role), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public static class HttpAssert
{
    public static async Task<JsonElement> Json(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status and, for errors, an RFC 9457 body with the stable code.</summary>
    public static async Task<JsonElement> Problem(this HttpResponseMessage response, int status, string code)
    {
        var body = await response.Json();
        Assert.True((int)response.StatusCode == status, $"expected {status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        return body;
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient c, string url, object body) => c.PostAsJsonAsync(url, body);

    public static Task<HttpResponseMessage> PostRaw(this HttpClient c, string url, string body, string contentType = "application/json")
        => c.PostAsync(url, new StringContent(body, System.Text.Encoding.UTF8, contentType));
}
