using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Fans;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.Winners;

public static class WinnersApi
{
    public static void AddWinners(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        var config = builder.Configuration;
        s.AddOptions<WinnersOptions>().Bind(config.GetSection("Winners"))
            .PostConfigure(o =>
            {
                o.DevKeyFallback = string.IsNullOrWhiteSpace(config["Auth:Authority"]) ? config["Auth:DevSigningKey"] : null;
                o.AllowHttpLoopback = bool.TryParse(config["Webhooks:AllowHttpLoopback"], out var loopback) && loopback;
            })
            .ValidateOnStart();
        s.AddSingleton<IValidateOptions<WinnersOptions>, WinnersOptionsValidator>();
        s.AddTable(DrawStore.TableName);
        s.AddContainer(DrawStore.ContainerName);
        s.AddSingleton<DrawStore>();
        s.AddSingleton<DrawRunner>();
        s.AddSingleton<WinnersFaults>();
        s.AddSingleton<WinnerNotifier>();
        s.AddSingleton<WinnersReceivers>();
        s.AddSingleton<IPhaseAction, WinnersPhaseAction>();
        s.AddWebhookClient(WinnerNotifier.HttpClientName);
        // The queue name is a setting, read when the catalog is built (after every configuration source is added);
        // read raw so listing functions and resources does not require the secrets the options validate.
        s.AddSingleton(sp => new FunctionDefinition("WinnersNotify", new QueueTrigger(
                sp.GetRequiredService<IConfiguration>()["Winners:NotifyQueue"] is { Length: > 0 } q ? q : WinnerNotifier.DefaultQueue),
            async inv => { await inv.Service<WinnerNotifier>().DeliverAsync(inv); return null; }));
    }

    public static void MapWinners(this WebApplication app)
    {
        var staff = app.MapGroup("/api/campaigns/{campaignId}/draws").WithTags("Winners");
        WinnersReceiversApi.Map(app);

        staff.MapGet("/", async (string campaignId, int? pageSize, string? continuation, DrawStore store, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var page = await store.PageAsync(campaignId, pageSize, continuation, ct);
            return Results.Ok(new { items = page.Items.Select(StaffView), continuation = page.Continuation });
        }).Requires(Powers.DrawsRead).WithSummary("A campaign's draws in id order, paged (no personal data, no secret seed).");

        staff.MapPut("/{drawId}", async (string campaignId, string drawId, DrawInput input, DrawStore store, CampaignStore campaigns,
            TimeProvider time, CancellationToken ct) =>
        {
            if (!WinnerRules.DrawIdPattern().IsMatch(drawId))
                return ApiProblem.Validation("drawId", "1–40 lowercase letters, digits and hyphens.").ToResult();
            var errors = WinnerRules.Validate(input);
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            if (await campaigns.GetAsync(campaignId, ct) is not { } c) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var found = await store.GetAsync(campaignId, drawId, ct);
            var d = WinnerRules.Configure(found?.State, c.Campaign, drawId, input, time.GetUtcNow());
            if (d.Value is null) return Refusal(d);
            if (!ReferenceEquals(d.Value, found?.State)) await store.SaveAsync(d.Value, found?.ETag, ct);
            return Results.Ok(StaffView(d.Value));
        }).Requires(Powers.DrawsRun).WithSummary("Define a draw's winner rules (until its seed is committed).");

        staff.MapGet("/{drawId}", async (string campaignId, string drawId, DrawStore store, CancellationToken ct)
            => await Load(store, campaignId, drawId, ct) is { } f ? Results.Ok(StaffView(f.State)) : DrawNotFound())
            .Requires(Powers.DrawsRead).WithSummary("A draw's state, winners by position and status (no personal data).");

        staff.MapPost("/{drawId}/commit", async (string campaignId, string drawId, HttpRequest http, DrawStore store, WinnerNotifier notifier,
            CampaignStore campaigns, TimeProvider time, CancellationToken ct) =>
        {
            if (!TryKey(http, out var key, out var bad)) return bad;
            // The campaign's eligibility as it stands now is frozen into the draw and committed to with the seed.
            if (!CampaignRules.IdPattern().IsMatch(campaignId) || await campaigns.GetAsync(campaignId, ct) is not { } c) return DrawNotFound();
            return await Change(store, notifier, campaignId, drawId, key, WinnerRules.Fingerprint("commit"),
                (s, now) => WinnerRules.Commit(s, c.Campaign.Eligibility, DrawRunner.NewSeed(), now), time, ct);
        })
            .Requires(Powers.DrawsRun).WithSummary("Generate the secret seed and publish its SHA-256 commitment (before the window closes). Idempotency-Key makes retries safe.");

        staff.MapPut("/{drawId}/external", (string campaignId, string drawId, ExternalValueInput input, DrawStore store, WinnerNotifier notifier,
            TimeProvider time, CancellationToken ct)
            => Change(store, notifier, campaignId, drawId, null, "", (s, now) => WinnerRules.EnterExternal(s, input.Value, now), time, ct))
            .Requires(Powers.DrawsExternal).WithSummary("Enter the published value of the declared external randomness round.");

        staff.MapPost("/{drawId}/run", async (string campaignId, string drawId, HttpRequest http, DrawStore store, DrawRunner runner,
            WinnerNotifier notifier, CancellationToken ct) =>
        {
            if (!TryKey(http, out var key, out var bad)) return bad;
            if (await Load(store, campaignId, drawId, ct) is not { } f) return DrawNotFound();
            // A retry of the run that made this draw answers its record again (and sends what is still pending).
            if (WinnerRules.Replay(f.State, key, WinnerRules.Fingerprint(DrawRunner.RunOperation)) is { } replay)
            {
                if (replay.Value is null) return Refusal(replay);
                if (replay.Value.Outbox is { Count: > 0 }) await notifier.FlushAsync(campaignId, drawId, ct);
                return Results.Ok(WinnerRules.Record(replay.Value));
            }
            var drawn = await runner.RunAsync(campaignId, drawId, key, ct);
            return Results.Ok(WinnerRules.Record(drawn));
        }).Requires(Powers.DrawsRun).WithSummary("Make the draw (once, after the window closes); returns the published record. Idempotency-Key makes retries safe.");

        staff.MapGet("/{drawId}/winners", async (string campaignId, string drawId, DrawStore store, IFanProfiles fans, StaffGrant grant,
            WorkspaceStore workspaces, TimeProvider time, CancellationToken ct) =>
        {
            if (await Load(store, campaignId, drawId, ct) is not { } f) return DrawNotFound();
            // Personal data for fulfilment: the read is recorded before anything is shown, so no read goes unaudited.
            await workspaces.AuditAsync(new WorkspaceAuditEntry(grant.WorkspaceId!, time.GetUtcNow(), grant.Subject, "winners.contacts_read",
                $"{campaignId}/{drawId}", $"{f.State.Slots?.Count ?? 0} winners"), ct);
            var items = new List<object>();
            foreach (var slot in f.State.Slots ?? [])
            {
                var profile = await fans.GetProfileAsync(slot.FanId, ct);
                var consent = await fans.GetConsentAsync(slot.FanId, campaignId, ct);
                items.Add(new { slot.Position, slot.Pid, slot.FanId, slot.EntryId, slot.Status, slot.SelectedAt, slot.ContactedAt, slot.ClaimedAt, slot.FulfilledAt,
                    profile?.DisplayName, profile?.Country, profile?.BirthDate, ShowNamePublicly = consent?.ShowNamePublicly ?? false,
                    MarketingOptIn = consent?.MarketingOptIn ?? false });
            }
            return Results.Ok(new { items });
        }).Requires(Powers.WinnerContacts).WithSummary("Winners with their contact data for fulfilment; every read is audited in the workspace.");

        staff.MapPut("/{drawId}/winners/{position:int}/status", (string campaignId, string drawId, int position, WinnerStatusInput input,
            DrawStore store, WinnerNotifier notifier, TimeProvider time, CancellationToken ct)
            => Change(store, notifier, campaignId, drawId, null, "", (s, now) => WinnerRules.SetStatus(s, position, input.Status, now), time, ct))
            .Requires(Powers.DrawsRun).WithSummary("Mark a winner contacted, claimed or fulfilled (forward only).");

        staff.MapPost("/{drawId}/winners/{position:int}/promote", async (string campaignId, string drawId, int position, PromoteInput input,
            HttpRequest http, DrawStore store, WinnerNotifier notifier, IOptions<WinnersOptions> options, TimeProvider time, CancellationToken ct) =>
        {
            if (!TryKey(http, out var key, out var bad)) return bad;
            return await Change(store, notifier, campaignId, drawId, key, WinnerRules.Fingerprint("promote", position, input.Reason, input.Note),
                (s, now) => WinnerRules.Promote(s, position, input.Reason, input.Note, options.Value.ClaimPeriod, now), time, ct);
        }).Requires(Powers.DrawsRun).WithSummary("Replace a winner by the next alternate, with a reason logged in the public record. Idempotency-Key makes retries safe.");

        var pub = app.MapGroup("/api/public/campaigns/{campaignId}/draws").WithTags("Winners").Public();

        pub.MapGet("/{drawId}/record", async (string campaignId, string drawId, DrawStore store, CampaignStore campaigns, TimeProvider time, CancellationToken ct) =>
        {
            if (await LoadPublic(store, campaigns, campaignId, drawId, time, ct) is not { } s) return DrawNotFound();
            return Results.Json(WinnerRules.Record(s), RecordJson);
        }).WithSummary("The draw record: the seed commitment before the draw, everything to re-run it after.");

        pub.MapGet("/{drawId}/eligible.txt", async (string campaignId, string drawId, DrawStore store, CampaignStore campaigns, TimeProvider time, CancellationToken ct) =>
        {
            if (await LoadPublic(store, campaigns, campaignId, drawId, time, ct) is not { Status: DrawStatus.Drawn } s) return DrawNotFound();
            var bytes = await store.GetListAsync(campaignId, drawId, s.ListSha256!, ct);
            return bytes is null ? DrawNotFound() : Results.File(bytes, "text/plain; charset=utf-8", $"{campaignId}-{drawId}-eligible.txt");
        }).WithSummary("The frozen eligible list (pseudonymous ids), as hashed in the record.");

        pub.MapGet("/{drawId}/winners", async (string campaignId, string drawId, DrawStore store, CampaignStore campaigns, IFanProfiles fans,
            TimeProvider time, CancellationToken ct) =>
        {
            if (await LoadPublic(store, campaigns, campaignId, drawId, time, ct) is not { Status: DrawStatus.Drawn } s) return DrawNotFound();
            var items = new List<object>();
            foreach (var slot in s.Slots ?? [])
            {
                var consent = await fans.GetConsentAsync(slot.FanId, campaignId, ct);
                var name = consent?.ShowNamePublicly == true ? (await fans.GetProfileAsync(slot.FanId, ct))?.DisplayName : null;
                items.Add(new { slot.Position, DisplayName = name });
            }
            return Results.Ok(new { items });
        }).WithSummary("Winners by position; a display name only when the winner agreed to show it.");

        app.MapGet("/api/me/campaigns/{campaignId}/draw-id", (string campaignId, ClaimsPrincipal user, IOptions<WinnersOptions> options) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            return Results.Ok(new { campaignId, id = DrawAlgorithm.Pseudonym(options.Value.PseudonymKeyBytes, campaignId, user.Subject()) });
        }).RequireAuthorization(Policies.Fan).WithTags("Winners").WithSummary("The caller's pseudonymous id in this campaign's eligible lists.");
    }

    /// <summary>The record is read by people too: indented, and '+' in offsets left as is rather than \u002B.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions RecordJson = new(JsonDefaults.Options)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static object StaffView(DrawState s) => new
    {
        s.CampaignId,
        s.DrawId,
        s.Method,
        s.Pool,
        s.Winners,
        s.Alternates,
        s.Filters,
        s.RoundId,
        s.JuryWeight,
        s.CloseAt,
        s.Status,
        s.MinAge,
        s.Countries,
        s.Commitment,
        s.RulesSha256,
        s.CommittedAt,
        s.External,
        s.DrawnAt,
        s.ListSha256,
        s.ListCount,
        s.Excluded,
        Slots = s.Slots?.Select(x => new { x.Position, x.Pid, x.Status, x.SelectedAt, x.ContactedAt, x.ClaimedAt, x.FulfilledAt }),
        AlternatesLeft = s.AlternatePool is { } pool ? pool.Count - s.AlternatesUsed : (int?)null,
        s.Events,
        Record = $"/api/public/campaigns/{s.CampaignId}/draws/{s.DrawId}/record",
    };

    private static async Task<(DrawState State, Azure.ETag ETag)?> Load(DrawStore store, string campaignId, string drawId, CancellationToken ct)
        => CampaignRules.IdPattern().IsMatch(campaignId) && WinnerRules.DrawIdPattern().IsMatch(drawId) ? await store.GetAsync(campaignId, drawId, ct) : null;

    private static async Task<DrawState?> LoadPublic(DrawStore store, CampaignStore campaigns, string campaignId, string drawId, TimeProvider time, CancellationToken ct)
    {
        if (await Load(store, campaignId, drawId, ct) is not { State.Status: not DrawStatus.Configured } f) return null;
        return await campaigns.GetCachedAsync(campaignId, ct) is { } c && c.IsVisibleToPublic(time.GetUtcNow()) ? f.State : null;
    }

    /// <summary>
    /// Load → decide(now) → save at the ETag read. A key already applied replays instead of deciding again; a new key is
    /// saved in the same write as the change. Notifications the change recorded are sent after the write.
    /// </summary>
    private static async Task<IResult> Change(DrawStore store, WinnerNotifier notifier, string campaignId, string drawId, string? key, string fingerprint,
        Func<DrawState, DateTimeOffset, WinnerRules.Decision> decide, TimeProvider time, CancellationToken ct)
    {
        if (await Load(store, campaignId, drawId, ct) is not { } f) return DrawNotFound();
        var now = time.GetUtcNow();
        var d = WinnerRules.Replay(f.State, key, fingerprint) ?? decide(f.State, now);
        if (d.Value is null) return Refusal(d);
        if (!ReferenceEquals(d.Value, f.State)) await store.SaveAsync(WinnerRules.Remember(d.Value, key, fingerprint, now), f.ETag, ct);
        if (d.Value.Outbox is { Count: > 0 }) await notifier.FlushAsync(campaignId, drawId, ct);
        return Results.Ok(StaffView(d.Value));
    }

    private static bool TryKey(HttpRequest http, out string? key, out IResult bad)
    {
        key = http.Headers["Idempotency-Key"].FirstOrDefault();
        bad = Results.Empty;
        if (key is null || WinnerRules.IdempotencyKeyPattern().IsMatch(key)) return true;
        bad = ApiProblem.Validation("Idempotency-Key", "Use 1–64 letters, digits, '-' or '_'.", "invalid_idempotency_key").ToResult();
        return false;
    }

    private static IResult Refusal(WinnerRules.Decision d) => new ApiProblem(d.Status, d.Code!, "The request was refused.", d.Detail).ToResult();

    private static IResult DrawNotFound() => ApiProblem.NotFound("draw_not_found", "The draw").ToResult();
}
