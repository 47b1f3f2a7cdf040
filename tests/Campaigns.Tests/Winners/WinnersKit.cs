using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Campaigns.Fans;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Winners;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.Winners;

/// <summary>Small stand-ins for the capabilities Winners consumes (built in parallel), registered through TestApp's hook.</summary>
internal sealed class FakeCapabilities : IVoterDirectory, IFanBlocklist, IEntryDirectory, IRevealedResults, IRankedResults
{
    public ConcurrentDictionary<string, List<string>> Voters { get; } = new();
    public ConcurrentDictionary<string, HashSet<string>> Blocked { get; } = new();
    public ConcurrentDictionary<string, List<EntryInfo>> Entries { get; } = new();
    public ConcurrentDictionary<(string, string), RevealedTally> Revealed { get; } = new();
    public ConcurrentDictionary<(string, string), List<JuryScore>> Jury { get; } = new();

    public async IAsyncEnumerable<string> CountedVotersAsync(string campaignId, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var v in Voters.GetValueOrDefault(campaignId) ?? []) { await Task.Yield(); yield return v; }
    }

    public Task<bool> IsBlockedAsync(string campaignId, string fanId, CancellationToken ct)
        => Task.FromResult(Blocked.GetValueOrDefault(campaignId)?.Contains(fanId) == true);

    public Task<EntryInfo?> GetAsync(string campaignId, string entryId, CancellationToken ct)
        => Task.FromResult(Entries.GetValueOrDefault(campaignId)?.FirstOrDefault(e => e.EntryId == entryId));

    public async IAsyncEnumerable<EntryInfo> ApprovedAsync(string campaignId, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var e in (Entries.GetValueOrDefault(campaignId) ?? []).Where(e => e.Status == "approved")) { await Task.Yield(); yield return e; }
    }

    public Task<RevealedTally?> GetRevealedAsync(string campaignId, string roundId, CancellationToken ct)
        => Task.FromResult(Revealed.GetValueOrDefault((campaignId, roundId)));

    public Task<IReadOnlyList<JuryScore>?> GetJuryScoresAsync(string campaignId, string roundId, CancellationToken ct)
        => Task.FromResult<IReadOnlyList<JuryScore>?>(Jury.GetValueOrDefault((campaignId, roundId)));

    public void Register(WebApplicationBuilder b, bool voters = true, bool blocklist = true, bool entries = true, bool revealed = true, bool jury = true)
    {
        if (voters) b.Services.AddSingleton<IVoterDirectory>(this);
        if (blocklist) b.Services.AddSingleton<IFanBlocklist>(this);
        if (entries) b.Services.AddSingleton<IEntryDirectory>(this);
        if (revealed) b.Services.AddSingleton<IRevealedResults>(this);
        if (jury) b.Services.AddSingleton<IRankedResults>(this);
    }
}

/// <summary>Captures webhook posts instead of sending them.</summary>
internal sealed class WebhookCapture : HttpMessageHandler
{
    public ConcurrentQueue<(HttpRequestMessage Request, byte[] Body)> Received { get; } = new();
    /// <summary>The receiver's secret, as the workspace's owner got it when setting the receiver's URL.</summary>
    public string? Secret { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        Received.Enqueue((request, await request.Content!.ReadAsByteArrayAsync(ct)));
        return new HttpResponseMessage(System.Net.HttpStatusCode.NoContent);
    }
}

internal static class WinnersKit
{
    public static string NewId() => "w-" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<(TestApp App, FakeTimeProvider Time)> StartAsync(FakeCapabilities fakes, WebhookCapture? webhook = null,
        Action<WebApplicationBuilder>? register = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string?>
        {
            // A queue of this app only: parallel test apps share Azurite and would take each other's deliveries.
            ["Winners:NotifyQueue"] = "winners-notify-" + Guid.NewGuid().ToString("N")[..12],
        };
        var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            if (register is null) fakes.Register(b); else register(b);
            if (webhook is not null) b.Services.AddHttpClient(WinnerNotifier.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => webhook);
        }, settings);
        if (webhook is not null)
        {
            // The brand's CRM, set by the workspace's owner; its secret is shown once, in this answer.
            var set = await app.As("owner").PutAsJsonAsync($"/api/workspaces/{app.WorkspaceId}/winners-webhook", new { url = "https://crm.example/hooks/winners" });
            Assert.Equal(200, (int)set.StatusCode);
            webhook.Secret = (await set.Json()).GetProperty("secret").GetString();
        }
        return (app, time);
    }

    /// <summary>A published campaign whose voting closes a day after the fake clock's start.</summary>
    public static async Task<string> CampaignAsync(TestApp app, DateTimeOffset now, string[]? countries = null)
    {
        var id = NewId();
        var marketer = app.As("marketer");
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync("/api/campaigns", CampaignBody(id, now, 18, countries ?? ["CH", "DE"]))).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        return id;
    }

    /// <summary>The campaign of <see cref="CampaignAsync"/>; <paramref name="now"/> must be the instant it was created with.</summary>
    public static object CampaignBody(string id, DateTimeOffset now, int minAge, string[] countries) => new
    {
        id,
        name = "Build the car",
        brand = "Brand",
        timeZone = "Europe/Zurich",
        locales = new[] { "en" },
        features = new[] { "voting" },
        windows = new
        {
            publish = new { start = now.AddDays(-2), end = now.AddDays(90) },
            voting = new { start = now.AddDays(-1), end = now.AddDays(1) },
        },
        eligibility = new { minAge, countries },
        rules = new { version = "r1", text = new Dictionary<string, string> { ["en"] = "Rules" } },
    };

    /// <summary>Replaces the campaign's eligibility through the campaigns API (If-Match), as a marketer can at any time.</summary>
    public static async Task<HttpResponseMessage> EditEligibilityAsync(TestApp app, string campaignId, DateTimeOffset createdNow, int minAge, string[] countries)
    {
        var marketer = app.As("marketer");
        var current = await marketer.GetAsync($"/api/campaigns/{campaignId}");
        Assert.Equal(200, (int)current.StatusCode);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{campaignId}");
        put.Content = JsonContent.Create(CampaignBody(campaignId, createdNow, minAge, countries));
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        return await marketer.SendAsync(put);
    }

    /// <summary>A fan as the Fans capability stores them; null fields leave that part out.</summary>
    public static async Task FanAsync(TestApp app, string campaignId, string fanId, DateTimeOffset now, string? country = "CH", int age = 30,
        bool consent = true, bool ageConfirmed = true, bool showName = false, bool staff = false, string? name = null)
    {
        var store = app.Service<FanStore>();
        await store.SaveProfileAsync(new FanProfile(fanId, name ?? "Name " + fanId, country, DateOnly.FromDateTime(now.UtcDateTime).AddYears(-age).AddDays(-1), staff, now), default);
        if (consent)
            await store.SaveConsentAsync(new CampaignConsent(fanId, campaignId, "r1", now, null, ageConfirmed ? now : null, false, null,
                showName, showName ? now : null), default);
    }

    public static string Pid(TestApp app, string campaignId, string fanId)
        => DrawAlgorithm.Pseudonym(app.Service<IOptions<WinnersOptions>>().Value.PseudonymKeyBytes, campaignId, fanId);

    public static async Task<(byte[] Record, byte[] List)> PublishedAsync(TestApp app, string campaignId, string drawId)
    {
        var record = await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/draws/{drawId}/record");
        Assert.Equal(200, (int)record.StatusCode);
        var list = await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/draws/{drawId}/eligible.txt");
        Assert.Equal(200, (int)list.StatusCode);
        Assert.Equal("text/plain", list.Content.Headers.ContentType?.MediaType);
        return (await record.Content.ReadAsByteArrayAsync(), await list.Content.ReadAsByteArrayAsync());
    }

    public static JsonElement Json(byte[] bytes) => JsonDocument.Parse(bytes).RootElement.Clone();

    /// <summary>Runs the real verifier program (tools/Campaigns.VerifyDraw, built with the tests) on two files.</summary>
    public static (int Exit, string Out, string Err) RunVerifier(string recordPath, string listPath)
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testDir.Parent!.Name; // bin/<Configuration>/net10.0
        var dll = Path.Combine(Azurite.RepoRoot(), "tools", "Campaigns.VerifyDraw", "bin", configuration, testDir.Name, "Campaigns.VerifyDraw.dll");
        Assert.True(File.Exists(dll), $"verifier not built at {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(recordPath);
        psi.ArgumentList.Add(listPath);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("the verifier did not finish"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
