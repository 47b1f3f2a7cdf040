using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Workspaces;

public sealed class WorkspacesOptions
{
    /// <summary>Workspace that campaigns created before workspaces existed move into at start.</summary>
    public string DefaultWorkspace { get; set; } = "default";
    /// <summary>Optional first owner (token subject) of the default workspace when the migration creates it.</summary>
    public string? DefaultOwner { get; set; }
}

public sealed class WorkspacesOptionsValidator : IValidateOptions<WorkspacesOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkspacesOptions o)
        => WorkspaceRules.IdPattern().IsMatch(o.DefaultWorkspace ?? "")
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Setting 'Workspaces__DefaultWorkspace' must be 3–63 lowercase letters, digits and hyphens.");
}

/// <summary>The route needs this power in the workspace its campaign (or workspace id) belongs to.</summary>
public sealed record RequiresPower(Power Power);

/// <summary>What the check granted the caller for this request: handlers ask it for finer powers (escalations, contacts).</summary>
public sealed record StaffGrant(string Subject, string? WorkspaceId, WorkspaceRole? Role, bool IsOperator)
{
    public bool Can(Power power) => WorkspaceRules.Decide(
        Role is { } r && WorkspaceId is { } ws ? new Membership(ws, Subject, r, null, default, "", default) : null, IsOperator, power) == AccessOutcome.Allowed;

    public static ValueTask<StaffGrant?> BindAsync(HttpContext http)
        => ValueTask.FromResult<StaffGrant?>(http.Items[typeof(StaffGrant)] as StaffGrant
            ?? throw new InvalidOperationException("The route declares no power, so no grant was made."));
}

public static class StaffRoutes
{
    /// <summary>Declares the power a staff route needs; the workspace check enforces it before the handler runs.</summary>
    public static TBuilder Requires<TBuilder>(this TBuilder builder, Power power) where TBuilder : IEndpointConventionBuilder
        => builder.RequireAuthorization(Policies.Staff).WithMetadata(new RequiresPower(power));
}

/// <summary>
/// The one authorisation check: (principal, the workspace of the campaign or the workspace named in the route, the
/// power). Every staff route passes through it as middleware after authentication; nothing else grants staff powers.
/// </summary>
public sealed class WorkspaceAccess(WorkspaceStore store, CampaignStore campaigns, IOptions<WorkspacesOptions> options)
{
    public static readonly string[] CampaignRouteKeys = ["campaignId", "id"];

    /// <summary>The workspace a campaign belongs to: its own, or the default one for campaigns not migrated yet.</summary>
    public string WorkspaceOf(Campaign campaign) => campaign.WorkspaceId ?? options.Value.DefaultWorkspace;

    public async Task<(AccessOutcome Outcome, StaffGrant Grant)> CheckAsync(ClaimsPrincipal user, string workspaceId, Power power, CancellationToken ct)
    {
        var subject = user.Subject();
        var isOperator = user.IsInRole(Roles.Operator);
        var member = await store.GetMemberAsync(workspaceId, subject, ct);
        return (WorkspaceRules.Decide(member, isOperator, power), new StaffGrant(subject, workspaceId, member?.Role, isOperator));
    }

    public static async Task Middleware(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<RequiresPower>() is not { } required)
        {
            await next(http);
            return;
        }
        var access = http.RequestServices.GetRequiredService<WorkspaceAccess>();
        var problem = await access.AuthorizeAsync(http, required.Power, http.RequestAborted);
        if (problem is not null) await problem.ToResult().ExecuteAsync(http);
        else await next(http);
    }

    private async Task<ApiProblem?> AuthorizeAsync(HttpContext http, Power power, CancellationToken ct)
    {
        var user = http.User;
        var values = http.Request.RouteValues;
        string? workspaceId;
        ApiProblem hidden;
        if (values.TryGetValue("workspaceId", out var w) && w is string ws)
        {
            workspaceId = ws;
            hidden = ApiProblem.NotFound("workspace_not_found", "The workspace");
            if (await store.GetAsync(ws, ct) is null) return hidden;
        }
        else if (CampaignRouteKeys.Select(k => values.TryGetValue(k, out var v) ? v as string : null).FirstOrDefault(v => v is not null) is { } campaignId)
        {
            hidden = ApiProblem.NotFound("campaign_not_found", "The campaign");
            // The workspace of a campaign never changes, so a cached read is safe; a cached absence is not (just created).
            if ((await campaigns.GetCachedAsync(campaignId, ct) ?? (await campaigns.GetAsync(campaignId, ct))?.Campaign) is not { } campaign)
                return hidden;
            workspaceId = WorkspaceOf(campaign);
        }
        else
        {
            // No workspace in the route: a list or a create that scopes itself to the caller's workspaces, or a
            // platform route that only operators hold.
            var isOperator = user.IsInRole(Roles.Operator);
            if (power.Roles.Length == 0 && !(isOperator && power.Operator))
                return new ApiProblem(403, "forbidden", "Only platform operators may call this endpoint.");
            http.Items[typeof(StaffGrant)] = new StaffGrant(user.Subject(), null, null, isOperator);
            return null;
        }

        var (outcome, grant) = await CheckAsync(user, workspaceId, power, ct);
        switch (outcome)
        {
            case AccessOutcome.NotFound: return hidden;
            case AccessOutcome.Forbidden:
                return new ApiProblem(403, "forbidden", "Your role in this workspace may not do this.", $"This needs the '{power.Name}' power.");
            default:
                http.Items[typeof(StaffGrant)] = grant;
                return null;
        }
    }
}
