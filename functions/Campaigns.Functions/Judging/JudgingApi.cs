using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Moderation;
using Campaigns.Platform;
using Campaigns.Workspaces;

namespace Campaigns.Judging;

public static class JudgingApi
{
    public static void AddJudging(this WebApplicationBuilder builder)
    {
        builder.Services.AddTable(JudgingStore.TableName);
        builder.Services.AddSingleton<JudgingStore>();
        builder.Services.AddSingleton<JudgingService>();
        builder.Services.AddSingleton<Winners.IRankedResults, JudgingRankedResults>();
    }

    public static void MapJudging(this WebApplication app)
    {
        var g = app.MapGroup("/api/judging/campaigns/{campaignId}").WithTags("Judging")
            .AddEndpointFilter(async (ctx, next) =>
                CampaignRules.IdPattern().IsMatch(ctx.HttpContext.GetRouteValue("campaignId") as string ?? "")
                    ? await next(ctx)
                    : ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult());

        g.MapPut("/setup", async (string campaignId, SetupInput input, JudgingStore store, TimeProvider time, CancellationToken ct) =>
        {
            var errors = JudgingRules.ValidateSetup(input);
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            var setup = new JudgingSetup(campaignId, input.Rubric, input.Judges, time.GetUtcNow());
            await store.SaveSetupAsync(setup, ct);
            return Results.Ok(setup);
        }).Requires(Powers.JudgingSetup).WithSummary("Define the rubric (criteria, weights, scale) and the panel; rounds copy them when created.");

        g.MapGet("/setup", async (string campaignId, JudgingStore store, CancellationToken ct)
            => await store.GetSetupAsync(campaignId, ct) is { } s ? Results.Ok(s) : ApiProblem.NotFound("judging_not_set_up", "The judging setup").ToResult())
            .Requires(Powers.JudgingRead).WithSummary("The rubric and panel.");

        g.MapPost("/conflicts", async (string campaignId, ConflictInput input, ClaimsPrincipal user, StaffGrant grant, JudgingStore store, TimeProvider time, CancellationToken ct) =>
        {
            if (!ModerationRules.EntryIdPattern().IsMatch(input.EntryId ?? "")) return ApiProblem.Validation("entryId", "Not an entry id.").ToResult();
            var caller = user.Subject();
            var judge = input.JudgeId ?? caller;
            if (judge != caller && !grant.Can(Powers.JudgingConflictsForOthers))
                return new ApiProblem(403, "forbidden", "Judges declare their own conflicts; owners and marketers may declare for others.").ToResult();
            if (await store.GetSetupAsync(campaignId, ct) is not { } setup || !setup.Judges.Contains(judge))
                return new ApiProblem(403, "not_on_panel", "This judge is not on the campaign's panel.").ToResult();
            var conflict = new Conflict(campaignId, judge, input.EntryId!, input.Reason is { Length: > 200 } r ? r[..200] : input.Reason, caller, time.GetUtcNow());
            // Kept once, with its first instant: closed rounds count only conflicts declared before their close.
            return Results.Ok(await store.AddConflictAsync(conflict, ct));
        }).Requires(Powers.JudgingConflicts).WithSummary("Declare a conflict of interest: the judge is recused from the entry and never sees it.");

        g.MapPost("/rounds", async (string campaignId, RoundInput input, JudgingService service, CancellationToken ct) =>
        {
            var (round, shortOf, refused) = await service.CreateRoundAsync(campaignId, input, ct);
            return refused is not null ? refused.Problem().ToResult() : Results.Created($"/api/judging/campaigns/{campaignId}/rounds/{round!.Id}", new { round, entriesShortOfJudges = shortOf });
        }).Requires(Powers.JudgingSetup).WithSummary("Open a round (shortlist → final): entries assigned to everyone or in balanced subsets.");

        g.MapGet("/rounds/{roundId}", async (string campaignId, string roundId, JudgingService service, CancellationToken ct) =>
        {
            if (await service.ProgressAsync(campaignId, roundId, ct) is not { } p) return ApiProblem.NotFound("round_not_found", "The round").ToResult();
            return Results.Ok(p);
        }).Requires(Powers.JudgingRead).WithSummary("A round and its progress (scores done per judge; no score values before close).");

        g.MapGet("/rounds/{roundId}/entries", async (string campaignId, string roundId, ClaimsPrincipal user, JudgingService service, CancellationToken ct) =>
        {
            var (items, refused) = await service.JudgeEntriesAsync(campaignId, roundId, user.Subject(), ct);
            return refused is not null ? refused.Problem().ToResult() : Results.Ok(new { items });
        }).Requires(Powers.JudgingScore).WithSummary("The caller's assigned entries with their own scores only (recused entries never appear).");

        g.MapGet("/rounds/{roundId}/entries/{entryId}", async (string campaignId, string roundId, string entryId, ClaimsPrincipal user, JudgingService service, CancellationToken ct) =>
        {
            var (access, refused) = await service.AccessAsync(campaignId, roundId, entryId, user.Subject(), ct);
            if (refused is not null) return refused.Problem().ToResult();
            var own = await service.Store.GetScoreAsync(campaignId, roundId, user.Subject(), entryId, ct);
            var e = access!.Value.Entry;
            // The owner stays hidden from judges: they judge the work, not the fan.
            return Results.Ok(new { entry = new { e.EntryId, e.Kind, e.Title, e.Locale }, myScore = own, rubric = access.Value.Round.Rubric });
        }).Requires(Powers.JudgingScore).WithSummary("One assigned entry (403 when recused or not assigned).");

        g.MapPut("/rounds/{roundId}/entries/{entryId}/score", async (string campaignId, string roundId, string entryId, ScoreInput input, ClaimsPrincipal user,
            JudgingService service, TimeProvider time, CancellationToken ct) =>
        {
            var (access, refused) = await service.AccessAsync(campaignId, roundId, entryId, user.Subject(), ct);
            if (refused is not null) return refused.Problem().ToResult();
            var (score, bad) = JudgingRules.ValidateScore(access!.Value.Round, user.Subject(), entryId, input, time.GetUtcNow());
            if (bad is not null) return bad.Problem().ToResult();
            await service.Store.SaveScoreAsync(campaignId, roundId, score!, ct);
            return Results.Ok(score);
        }).Requires(Powers.JudgingScore).WithSummary("Score an assigned entry on every criterion (revisable until the round closes).");

        g.MapPost("/rounds/{roundId}/close", async (string campaignId, string roundId, ClaimsPrincipal user, JudgingService service, CancellationToken ct) =>
        {
            var (result, refused) = await service.CloseAsync(campaignId, roundId, user.Subject(), ct);
            return refused is not null ? refused.Problem().ToResult() : Results.Ok(result);
        }).Requires(Powers.JudgingSetup).WithSummary("Close at quorum, or at/after the deadline; missing scores are listed, late judges do not block.");

        g.MapGet("/rounds/{roundId}/results", async (string campaignId, string roundId, JudgingService service, CancellationToken ct) =>
        {
            var (result, refused) = await service.ResultsAsync(campaignId, roundId, ct);
            return refused is not null ? refused.Problem().ToResult() : Results.Ok(result);
        }).Requires(Powers.JudgingRead).WithSummary("Normalised results of a closed round (409 while open: scores stay blind).");

        g.MapPost("/hybrid", async (string campaignId, HybridInput input, ClaimsPrincipal user, JudgingService service, CancellationToken ct) =>
        {
            var (result, refused) = await service.PublishHybridAsync(campaignId, input, user.Subject(), ct);
            return refused is not null ? refused.Problem().ToResult() : Results.Ok(result);
        }).Requires(Powers.JudgingSetup).WithSummary("Publish the hybrid result: declared jury/public weights over a closed round and revealed votes.");

        app.MapGet("/api/public/campaigns/{campaignId}/results/hybrid", async (string campaignId, JudgingService service, HttpContext http, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("result_not_published", "The result").ToResult();
            var (result, refused) = await service.PublishedHybridAsync(campaignId, ct);
            if (refused is not null) return refused.Problem().ToResult();
            http.Response.Headers.CacheControl = result!.Status == "published" ? "public, max-age=300" : "public, max-age=15";
            return Results.Ok(result);
        }).AllowAnonymous().WithTags("Public").WithSummary("The published hybrid result with its weights and tie-break rule.");
    }
}
