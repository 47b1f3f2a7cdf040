using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.Moderation;

public static class ModerationApi
{
    public static void AddModeration(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<ModerationOptions>().Bind(builder.Configuration.GetSection(ModerationOptions.Section)).ValidateOnStart();
        s.AddSingleton<IValidateOptions<ModerationOptions>, ModerationOptionsValidator>();
        s.AddTable(ModerationStore.TableName);
        s.AddSingleton<ModerationStore>();
        s.AddSingleton<ModerationFaults>();
        s.AddSingleton<ModerationService>();
        s.AddSingleton<IReviewQueue>(sp => sp.GetRequiredService<ModerationService>());
        s.AddSingleton<IFanBlocklist>(sp => sp.GetRequiredService<ModerationService>());
        s.AddSingleton<EngagementRanking>();
        // Read raw (not through the validated options) so listing functions and resources needs no other setting.
        s.AddSingleton(sp => new Hosting.FunctionDefinition("ModerationApplyCheck", new Hosting.QueueTrigger(
                sp.GetRequiredService<IConfiguration>()["Moderation:ApplyQueue"] is { Length: > 0 } q ? q : new ModerationOptions().ApplyQueue),
            async inv =>
            {
                await inv.Service<ModerationService>().CheckAppliedAsync(inv.QueueMessage<ModerationService.ApplyCheck>(JsonDefaults.Options), CancellationToken.None);
                return null;
            }));
    }

    public static void MapModeration(this WebApplication app)
    {
        var mod = app.MapGroup("/api/moderation/campaigns/{campaignId}").WithTags("Moderation")
            .AddEndpointFilter(async (ctx, next) =>
                CampaignRules.IdPattern().IsMatch(ctx.HttpContext.GetRouteValue("campaignId") as string ?? "")
                    ? await next(ctx)
                    : ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult());

        mod.MapGet("/queue", async (string campaignId, string? status, string? kind, string? flag, string? locale, string? order, int? limit,
            ModerationStore store, TimeProvider time, CancellationToken ct) =>
        {
            if (ParseStatus(status) is not { } st) return ApiProblem.Validation("status", "Use pending or escalated.").ToResult();
            if (order is not (null or "oldest" or "priority")) return ApiProblem.Validation("order", "Use oldest or priority.").ToResult();
            var now = time.GetUtcNow();
            var open = await store.OpenAsync(campaignId, ct);
            var items = ModerationRules.Order(ModerationRules.Filter(open.Select(x => x.Item), st, kind, flag, locale), order == "priority")
                .Take(Math.Clamp(limit ?? 100, 1, 500)).Select(i => View(i, now)).ToList();
            return Results.Ok(new { items, depth = open.Count });
        }).Requires(Powers.ModerationReview).WithSummary("Open review items, oldest first (the SLA clock), filtered by kind, flag, locale.");

        mod.MapPost("/claims", async (string campaignId, ClaimInput input, ClaimsPrincipal user, StaffGrant grant, ModerationService service,
            IOptions<ModerationOptions> options, TimeProvider time, HttpRequest http, CancellationToken ct) =>
        {
            var key = IdempotencyKeys.Read(http);
            var max = options.Value.MaxClaimBatch;
            if (input.Count is { } c && (c < 1 || c > max)) return ApiProblem.Validation("count", $"Claim between 1 and {max} items.").ToResult();
            if (ParseStatus(input.Status) is not { } st) return ApiProblem.Validation("status", "Use pending or escalated.").ToResult();
            if (st == ReviewStatus.Escalated && !grant.Can(Powers.ModerationEscalations))
                return new ApiProblem(403, "escalated_admin_only", "Escalated items are claimed by the workspace's owners.").ToResult();
            var result = await service.ClaimAsync(campaignId, user.Subject(), input.Count ?? Math.Min(10, max), st, input.Kind, input.Flag, input.Locale, ct, key);
            var now = time.GetUtcNow();
            return Results.Ok(new { result.ClaimId, result.LeaseUntil, items = result.Items.Select(i => View(i, now)) });
        }).Requires(Powers.ModerationReview).WithSummary("Claim a batch of items: a lease that expires, so abandoned claims come back. With an Idempotency-Key a retry answers with the same items.");

        mod.MapPost("/claims/release", async (string campaignId, ReleaseInput input, ClaimsPrincipal user, ModerationService service, CancellationToken ct) =>
        {
            if (input.EntryIds is not { Length: > 0 and <= ModerationRules.MaxBulk }) return ApiProblem.Validation("entryIds", $"Give 1–{ModerationRules.MaxBulk} entry ids.").ToResult();
            return Results.Ok(new { released = await service.ReleaseAsync(campaignId, user.Subject(), input.EntryIds, ct) });
        }).Requires(Powers.ModerationReview).WithSummary("Give back items you hold before the lease expires.");

        mod.MapPost("/items/{entryId}/decision", async (string campaignId, string entryId, DecisionInput input, ClaimsPrincipal user, StaffGrant grant,
            ModerationService service, TimeProvider time, CancellationToken ct) =>
        {
            if (ModerationRules.ParseAction(input.Action) is not { } action) return ApiProblem.Validation("action", "Use approve, reject or escalate.", "unknown_action").ToResult();
            if (ModerationRules.ValidateDecision(action, input.ReasonCode, input.Note, bulk: false) is { } bad) return bad.Problem().ToResult();
            var r = await service.DecideAsync(campaignId, entryId, action, input.ReasonCode, input.Note, user.Subject(), grant.Can(Powers.ModerationEscalations), ct);
            if (r.Refused is { } refused) return refused.Problem().ToResult();
            return Results.Ok(new { item = View(r.Item!, time.GetUtcNow()), applied = r.Applied });
        }).Requires(Powers.ModerationReview).WithSummary("Approve, reject (reason code + note) or escalate an item you hold.");

        mod.MapPost("/decisions", async (string campaignId, BulkDecisionInput input, ClaimsPrincipal user, StaffGrant grant, ModerationService service, CancellationToken ct) =>
        {
            if (ModerationRules.ParseAction(input.Action) is not { } action) return ApiProblem.Validation("action", "Use approve or reject.", "unknown_action").ToResult();
            if (input.EntryIds is not { Length: > 0 and <= ModerationRules.MaxBulk } || input.EntryIds.Distinct().Count() != input.EntryIds.Length)
                return ApiProblem.Validation("entryIds", $"Give 1–{ModerationRules.MaxBulk} distinct entry ids.").ToResult();
            if (ModerationRules.ValidateDecision(action, input.ReasonCode, input.Note, bulk: true) is { } bad) return bad.Problem().ToResult();
            var results = new object[input.EntryIds.Length];
            var actor = user.Subject();
            var admin = grant.Can(Powers.ModerationEscalations);
            // Items are independent (own row, own ETag, own audit transaction): decide a few at once.
            await Parallel.ForEachAsync(Enumerable.Range(0, input.EntryIds.Length), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (k, token) =>
            {
                var id = input.EntryIds[k];
                var r = await service.DecideAsync(campaignId, id, action, input.ReasonCode, input.Note, actor, admin, token);
                results[k] = new { entryId = id, ok = r.Refused is null, code = r.Refused?.Code, status = r.Item is { } i ? ModerationRules.Lower(i.Status) : null, applied = r.Applied };
            });
            return Results.Ok(new { results });
        }).Requires(Powers.ModerationReview).WithSummary("Approve or reject many held items; each item reports its own outcome.");

        mod.MapGet("/items/{entryId}", async (string campaignId, string entryId, ModerationStore store, TimeProvider time, CancellationToken ct) =>
        {
            if (!ModerationRules.EntryIdPattern().IsMatch(entryId) || await store.GetAsync(campaignId, entryId, ct) is not { } found)
                return ApiProblem.NotFound("item_not_found", "The review item").ToResult();
            return Results.Ok(new { item = View(found.Item, time.GetUtcNow()), audit = await store.AuditAsync(campaignId, entryId, ct) });
        }).Requires(Powers.ModerationReview).WithSummary("A review item with its full audit trail.");

        mod.MapGet("/audit", async (string campaignId, int? pageSize, string? continuation, ModerationStore store, CancellationToken ct)
            => Results.Ok(await store.AuditPageAsync(campaignId, null, pageSize, continuation, ct)))
            .Requires(Powers.ModerationReview).WithSummary("Every audited decision in the campaign (who, when, what, previous state), paged, item by item.");

        mod.MapGet("/sla", async (string campaignId, ModerationStore store, IOptions<ModerationOptions> options, TimeProvider time, CancellationToken ct) =>
        {
            var items = (await store.AllAsync(campaignId, ct)).Select(x => x.Item).ToList();
            return Results.Ok(ModerationRules.Sla(items, options.Value.SlaTargetHours, time.GetUtcNow()));
        }).Requires(Powers.ModerationFigures).WithSummary("Queue depth, oldest pending age and median time to decision, for the staff console.");

        mod.MapGet("/settings", async (string campaignId, ModerationService service, CancellationToken ct)
            => Results.Ok(await service.SettingsAsync(campaignId, ct)))
            .Requires(Powers.ModerationSettingsRead).WithSummary("The campaign's auto-rules and report threshold.");

        mod.MapPut("/settings", async (string campaignId, ModerationSettingsInput input, ModerationService service, ModerationStore store, CancellationToken ct) =>
        {
            var errors = ModerationRules.ValidateSettings(input);
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            var merged = ModerationRules.Merge(await service.SettingsAsync(campaignId, ct), input);
            await store.SaveSettingsAsync(campaignId, merged, ct);
            return Results.Ok(merged);
        }).Requires(Powers.ModerationSettingsEdit).WithSummary("Change auto-approve, auto-reject and the report hide threshold.");

        mod.MapPost("/fans/{fanId}/block", async (string campaignId, string fanId, BlockInput input, ClaimsPrincipal user, ModerationService service, CancellationToken ct) =>
        {
            if (BadFan(fanId) || input.Reason is { Length: > ModerationRules.MaxNote }) return ApiProblem.Validation("fanId", "Not a fan id.").ToResult();
            var r = await service.BlockAsync(campaignId, fanId, input.Reason, user.Subject(), ct);
            return Results.Ok(new { block = r.Block, entriesApplied = r.EntriesApplied, votesApplied = r.VotesApplied });
        }).Requires(Powers.FansBlock).WithSummary("Block a fan: hide all their entries and invalidate their votes.");

        mod.MapPost("/fans/{fanId}/unblock", async (string campaignId, string fanId, ClaimsPrincipal user, ModerationService service, CancellationToken ct) =>
        {
            if (BadFan(fanId)) return ApiProblem.Validation("fanId", "Not a fan id.").ToResult();
            if (await service.UnblockAsync(campaignId, fanId, user.Subject(), ct) is not { } r) return ApiProblem.NotFound("fan_not_blocked", "A block of this fan").ToResult();
            return Results.Ok(new { block = r.Block, entriesApplied = r.EntriesApplied, votesApplied = r.VotesApplied });
        }).Requires(Powers.FansBlock).WithSummary("Unblock a fan: restore their entries and votes.");

        mod.MapGet("/fans/{fanId}/audit", async (string campaignId, string fanId, int? pageSize, string? continuation, ModerationStore store, CancellationToken ct)
            => BadFan(fanId) ? ApiProblem.Validation("fanId", "Not a fan id.").ToResult()
                : Results.Ok(await store.AuditPageAsync(campaignId, ModerationStore.FanSubject(fanId), pageSize, continuation, ct)))
            .Requires(Powers.ModerationReview).WithSummary("Block and unblock history of a fan, paged.");

        mod.MapGet("/blocks", async (string campaignId, int? pageSize, string? continuation, ModerationStore store, CancellationToken ct)
            => Results.Ok(await store.BlocksPageAsync(campaignId, pageSize, continuation, ct)))
            .Requires(Powers.ModerationReview).WithSummary("Fans currently blocked in the campaign, paged.");

        mod.MapGet("/engaged-fans", EngagementApi.Handle)
            .Requires(Powers.ModerationFigures).WithSummary("Fans ranked by interaction rate over a window (optionally with jury quality); format=csv to export.");

        app.MapPost("/api/campaigns/{campaignId}/entries/{entryId}/reports", async (string campaignId, string entryId, ReportInput input,
            ClaimsPrincipal user, ModerationService service, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("entry_not_found", "The entry").ToResult();
            if (!ModerationRules.ReportReasons.Contains(input.Reason ?? ""))
                return ApiProblem.Validation("reason", $"Use one of {string.Join(", ", ModerationRules.ReportReasons)}.", "unknown_reason").ToResult();
            if (input.Note is { } n && (n.Length > ModerationRules.MaxNote || n.Any(char.IsControl)))
                return ApiProblem.Validation("note", $"At most {ModerationRules.MaxNote} characters.").ToResult();
            var r = await service.ReportAsync(campaignId, entryId, user.Subject(), input, ct);
            if (r.Refused is { } refused) return refused.Problem().ToResult();
            return Results.Accepted(value: new { counted = r.Counted });
        }).RequireAuthorization(Policies.Fan).WithTags("Moderation").WithSummary("Report an approved entry; at the campaign's threshold it is hidden pending review.");
    }

    public sealed record ReleaseInput(string[] EntryIds);

    private static bool BadFan(string fanId) => fanId.Length is 0 or > 200 || fanId.Any(char.IsControl);

    private static ReviewStatus? ParseStatus(string? s) => (s ?? "pending").ToLowerInvariant() switch
    {
        "pending" => ReviewStatus.Pending,
        "escalated" => ReviewStatus.Escalated,
        _ => null,
    };

    public static object View(ReviewItem i, DateTimeOffset now) => new
    {
        i.EntryId, i.OwnerFanId, i.Kind, i.Locale, i.SubmittedAt, i.QueuedAt, AgeSeconds = Math.Max(0, (now - i.QueuedAt).TotalSeconds),
        i.Safety, i.SafetyReason, i.Flags, i.Preview, i.Priority, Status = ModerationRules.Lower(i.Status), i.Hidden, i.Reports,
        i.ClaimedBy, LeaseUntil = i.LeaseUntil is { } l && l > now ? l : (DateTimeOffset?)null, i.DecidedBy, i.DecidedAt, i.ReasonCode,
        ReasonText = ModerationRules.ReasonText(i.ReasonCode, i.Locale), i.Automatic,
    };
}
