using System.Security.Claims;
using Azure;
using Campaigns.Platform;
using Campaigns.Workspaces;

namespace Campaigns.Campaigns;

public static class CampaignsApi
{
    public static void AddCampaigns(this WebApplicationBuilder builder)
    {
        builder.Services.AddTable(CampaignStore.TableName);
        builder.Services.AddSingleton<CampaignStore>();
    }

    public static void MapCampaigns(this WebApplication app)
    {
        var staff = app.MapGroup("/api/campaigns").WithTags("Campaigns");

        staff.MapPost("/", Create).Requires(Powers.CampaignCreate).WithSummary("Create a campaign (draft) in a workspace.");
        staff.MapGet("/", List).Requires(Powers.CampaignRead).WithSummary("List the campaigns of the caller's workspaces, paged.");

        staff.MapGet("/{id}", async (string id, CampaignStore store, TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is not { } found) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            http.Response.Headers.ETag = found.ETag.ToString("H");
            return Results.Ok(CampaignView.Staff(found.Campaign, time.GetUtcNow()));
        }).Requires(Powers.CampaignRead).WithSummary("Read a campaign with its ETag.");

        staff.MapPut("/{id}", async (string id, CampaignInput input, CampaignStore store, IEnumerable<ICampaignEditGuard> guards, ClaimsPrincipal user,
            TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            if (IfMatch(http) is not { } ifMatch) return ApiProblem.PreconditionRequired().ToResult();
            var errors = CampaignRules.Validate(input);
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            if (await store.GetAsync(id, ct) is not { } found) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            if (!SameTag(found.ETag, ifMatch)) return ApiProblem.Stale().ToResult();
            var now = time.GetUtcNow();
            var result = CampaignRules.Update(found.Campaign, input, now);
            if (result.Value is { } updated)
                foreach (var guard in guards)
                    if (await guard.CheckAsync(found.Campaign, updated, user.Subject(), now, ct) is { } refused) return refused.ToResult();
            return await Save(result, found.ETag, store, http, now, ct);
        }).Requires(Powers.CampaignEdit).WithSummary("Replace a campaign's settings (If-Match required).");

        staff.MapPost("/{id}/publish", (string id, CampaignStore store, TimeProvider time, HttpContext http, CancellationToken ct)
            => Transition(id, CampaignRules.Publish, store, time, http, ct))
            .Requires(Powers.CampaignPublish).WithSummary("Publish a draft: microsites can then read it.");

        staff.MapPost("/{id}/archive", (string id, CampaignStore store, TimeProvider time, HttpContext http, CancellationToken ct)
            => Transition(id, CampaignRules.Archive, store, time, http, ct))
            .Requires(Powers.CampaignArchive).WithSummary("Archive a campaign: hidden from microsites, read-only.");

        var pub = app.MapGroup("/api/public/campaigns").WithTags("Public").Public();
        pub.MapGet("/{id}", async (string id, CampaignStore store, TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            if (await store.GetCachedAsync(id, ct) is not { } c || !c.IsVisibleToPublic(now))
                return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            http.Response.Headers.CacheControl = "public, max-age=30";
            return Results.Ok(CampaignView.Public(c, now));
        }).WithSummary("A published campaign's public fields, for microsites.");
    }

    public static async Task<IResult> Create(CampaignInput input, StaffGrant grant, ClaimsPrincipal user, WorkspaceAccess access,
        WorkspaceStore workspaces, CampaignStore store, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var errors = CampaignRules.Validate(input);
        if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
        var workspaceId = input.WorkspaceId;
        if (workspaceId is null)
        {
            // The console sends its current workspace; a caller who can create in exactly one may leave it out.
            var creatable = (await workspaces.AllForSubjectAsync(grant.Subject, ct)).Where(m => Powers.CampaignCreate.Allows(m.Role)).ToList();
            if (creatable.Count == 0) return new ApiProblem(403, "forbidden", "You may not create campaigns in any workspace.").ToResult();
            if (creatable.Count > 1)
                return ApiProblem.Validation("workspaceId", "You belong to several workspaces: say which one the campaign is for.", "workspace_required").ToResult();
            workspaceId = creatable[0].WorkspaceId;
        }
        var (outcome, _) = await access.CheckAsync(user, workspaceId, Powers.CampaignCreate, ct);
        if (outcome == AccessOutcome.NotFound) return ApiProblem.NotFound("workspace_not_found", "The workspace").ToResult();
        if (outcome == AccessOutcome.Forbidden) return new ApiProblem(403, "forbidden", "Your role in this workspace may not create campaigns.").ToResult();
        var now = time.GetUtcNow();
        var campaign = CampaignRules.Create(input, input.Id ?? CampaignRules.NewId(input.Name, Random.Shared), workspaceId, now);
        var etag = await store.CreateAsync(campaign, ct);
        http.Response.Headers.ETag = etag.ToString("H");
        return Results.Created($"/api/campaigns/{campaign.Id}", CampaignView.Staff(campaign, now));
    }

    public static async Task<IResult> List(StaffGrant grant, WorkspaceStore workspaces, CampaignStore store, TimeProvider time,
        string? status, string? workspaceId, int? pageSize, string? continuation, CancellationToken ct)
    {
        CampaignStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<CampaignStatus>(status, ignoreCase: true, out var parsed))
                return ApiProblem.Validation("status", "Use draft, published or archived.").ToResult();
            filter = parsed;
        }
        var readable = (await workspaces.AllForSubjectAsync(grant.Subject, ct))
            .Where(m => Powers.CampaignRead.Allows(m.Role)).Select(m => m.WorkspaceId).ToList();
        if (workspaceId is not null) readable = readable.Where(w => w == workspaceId).ToList();
        var size = Math.Clamp(pageSize ?? 50, 1, 200);
        var (items, next) = await store.ListAsync(filter, readable, size, continuation, ct);
        var now = time.GetUtcNow();
        return Results.Ok(new { items = items.Select(c => CampaignView.Staff(c, now)), continuation = next });
    }

    private static async Task<IResult> Transition(string id, Func<Campaign, DateTimeOffset, Result> decide, CampaignStore store,
        TimeProvider time, HttpContext http, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } found) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
        if (IfMatch(http) is { } ifMatch && !SameTag(found.ETag, ifMatch)) return ApiProblem.Stale().ToResult();
        var now = time.GetUtcNow();
        return await Save(decide(found.Campaign, now), found.ETag, store, http, now, ct);
    }

    private static async Task<IResult> Save(Result result, ETag ifMatch, CampaignStore store, HttpContext http, DateTimeOffset now, CancellationToken ct)
    {
        if (result.Value is not { } updated) return ApiProblem.Conflict(result.Code!, result.Detail!).ToResult();
        var etag = await store.ReplaceAsync(updated, ifMatch, ct);
        http.Response.Headers.ETag = etag.ToString("H");
        return Results.Ok(CampaignView.Staff(updated, now));
    }

    // Proxies and clients may drop or add the weak marker; the opaque tag is what identifies the version.
    private static bool SameTag(ETag stored, ETag sent) => Opaque(stored.ToString("H")) == Opaque(sent.ToString("H"));
    private static string Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;

    private static ETag? IfMatch(HttpContext http)
        => http.Request.Headers.IfMatch.FirstOrDefault() is { Length: > 0 } v ? new ETag(v) : null;
}

/// <summary>Responses: staff see everything; microsites see public fields only. Instants come with their local rendering.</summary>
public static class CampaignView
{
    public sealed record WindowView(DateTimeOffset Start, DateTimeOffset End, string StartLocal, string EndLocal);
    public sealed record WindowsView(WindowView? Publish, WindowView? Entry, WindowView? Voting, DateTimeOffset? Reveal, string? RevealLocal);

    public static WindowsView Windows(Campaign c)
    {
        WindowView? W(TimeWindow? w) => w is null ? null : new(w.Start, w.End, c.Local(w.Start), c.Local(w.End));
        var w = c.Windows;
        return new(W(w.Publish), W(w.Entry), W(w.Voting), w.Reveal, w.Reveal is { } r ? c.Local(r) : null);
    }

    public static object Staff(Campaign c, DateTimeOffset now) => new
    {
        c.Id,
        c.WorkspaceId,
        c.Name,
        c.Brand,
        c.TimeZone,
        c.Locales,
        c.Features,
        Windows = Windows(c),
        c.Eligibility,
        c.Rules,
        c.PrizeDraw,
        c.Marketing,
        c.PublicDisplay,
        c.Status,
        Phase = CampaignRules.Phase(c, now),
        c.CreatedAt,
        c.UpdatedAt,
        c.PublishedAt,
        c.ArchivedAt,
    };

    public static object Public(Campaign c, DateTimeOffset now) => new
    {
        c.Id, c.Name, c.Brand, c.TimeZone, c.Locales, c.Features, Windows = Windows(c), c.Eligibility, c.Rules, c.PrizeDraw, c.Marketing, c.PublicDisplay,
        Phase = CampaignRules.Phase(c, now),
    };
}
