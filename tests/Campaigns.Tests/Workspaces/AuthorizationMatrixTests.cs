using System.Net.Http.Headers;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Xunit.Abstractions;

namespace Campaigns.Tests.Workspaces;

/// <summary>
/// Every route × every kind of caller, over HTTP against the real program: anonymous, a fan, another fan, each workspace
/// role in the campaign's workspace, each role in another workspace, and a platform operator. The expected access is
/// declared beside each route below (public, fan, host, or the power it needs, whose roles come from the powers table);
/// a route that is added, removed or re-declared without its row here fails the run.
/// </summary>
public sealed class AuthorizationMatrixTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Declared = new()
    {
        ["GET /"] = "public",
        ["GET /api/openapi.json"] = "public",
        ["GET /api/health"] = "public",
        ["POST /api/operations/queues/{queue}/redrive"] = "queues.redrive",
        ["POST /{functionName:regex(^[A-Za-z][A-Za-z0-9_]*$)}"] = "host",
        // Workspaces
        ["POST /api/workspaces/"] = "workspace.create",
        ["GET /api/workspaces/"] = "workspace.read",
        ["GET /api/workspaces/{workspaceId}"] = "workspace.read",
        ["GET /api/workspaces/{workspaceId}/members"] = "members.read",
        ["PUT /api/workspaces/{workspaceId}/members/{subject}"] = "members.manage",
        ["DELETE /api/workspaces/{workspaceId}/members/{subject}"] = "members.manage",
        ["GET /api/workspaces/{workspaceId}/audit"] = "workspace.audit",
        // Campaigns
        ["POST /api/campaigns/"] = "campaign.create",
        ["GET /api/campaigns/"] = "campaign.read",
        ["GET /api/campaigns/{id}"] = "campaign.read",
        ["PUT /api/campaigns/{id}"] = "campaign.edit",
        ["POST /api/campaigns/{id}/publish"] = "campaign.publish",
        ["POST /api/campaigns/{id}/archive"] = "campaign.archive",
        ["GET /api/public/campaigns/{id}"] = "public",
        // Fans
        ["GET /api/me/profile"] = "fan",
        ["PUT /api/me/profile"] = "fan",
        ["PUT /api/me/campaigns/{campaignId}/consent"] = "fan",
        ["GET /api/me/campaigns/{campaignId}/consent"] = "fan",
        ["GET /api/fans/{fanId}"] = "fans.profile.read",
        // Moderation
        ["GET /api/moderation/campaigns/{campaignId}/queue"] = "moderation.review",
        ["POST /api/moderation/campaigns/{campaignId}/claims"] = "moderation.review",
        ["POST /api/moderation/campaigns/{campaignId}/claims/release"] = "moderation.review",
        ["POST /api/moderation/campaigns/{campaignId}/items/{entryId}/decision"] = "moderation.review",
        ["POST /api/moderation/campaigns/{campaignId}/decisions"] = "moderation.review",
        ["GET /api/moderation/campaigns/{campaignId}/items/{entryId}"] = "moderation.review",
        ["GET /api/moderation/campaigns/{campaignId}/audit"] = "moderation.review",
        ["GET /api/moderation/campaigns/{campaignId}/sla"] = "moderation.figures",
        ["GET /api/moderation/campaigns/{campaignId}/settings"] = "moderation.settings.read",
        ["PUT /api/moderation/campaigns/{campaignId}/settings"] = "moderation.settings.edit",
        ["POST /api/moderation/campaigns/{campaignId}/fans/{fanId}/block"] = "fans.block",
        ["POST /api/moderation/campaigns/{campaignId}/fans/{fanId}/unblock"] = "fans.block",
        ["GET /api/moderation/campaigns/{campaignId}/fans/{fanId}/audit"] = "moderation.review",
        ["GET /api/moderation/campaigns/{campaignId}/blocks"] = "moderation.review",
        ["GET /api/moderation/campaigns/{campaignId}/engaged-fans"] = "moderation.figures",
        ["POST /api/campaigns/{campaignId}/entries/{entryId}/reports"] = "fan",
        // Judging
        ["PUT /api/judging/campaigns/{campaignId}/setup"] = "judging.setup",
        ["GET /api/judging/campaigns/{campaignId}/setup"] = "judging.read",
        ["POST /api/judging/campaigns/{campaignId}/conflicts"] = "judging.conflicts",
        ["POST /api/judging/campaigns/{campaignId}/rounds"] = "judging.setup",
        ["GET /api/judging/campaigns/{campaignId}/rounds/{roundId}"] = "judging.read",
        ["GET /api/judging/campaigns/{campaignId}/rounds/{roundId}/entries"] = "judging.score",
        ["GET /api/judging/campaigns/{campaignId}/rounds/{roundId}/entries/{entryId}"] = "judging.score",
        ["PUT /api/judging/campaigns/{campaignId}/rounds/{roundId}/entries/{entryId}/score"] = "judging.score",
        ["POST /api/judging/campaigns/{campaignId}/rounds/{roundId}/close"] = "judging.setup",
        ["GET /api/judging/campaigns/{campaignId}/rounds/{roundId}/results"] = "judging.read",
        ["POST /api/judging/campaigns/{campaignId}/hybrid"] = "judging.setup",
        ["GET /api/public/campaigns/{campaignId}/results/hybrid"] = "public",
        // Winners
        ["GET /api/workspaces/{workspaceId}/winners-webhook/"] = "winners.webhook",
        ["PUT /api/workspaces/{workspaceId}/winners-webhook/"] = "winners.webhook",
        ["POST /api/workspaces/{workspaceId}/winners-webhook/rotate"] = "winners.webhook",
        ["GET /api/campaigns/{campaignId}/draws/"] = "draws.read",
        ["PUT /api/campaigns/{campaignId}/draws/{drawId}"] = "draws.run",
        ["GET /api/campaigns/{campaignId}/draws/{drawId}"] = "draws.read",
        ["POST /api/campaigns/{campaignId}/draws/{drawId}/commit"] = "draws.run",
        ["PUT /api/campaigns/{campaignId}/draws/{drawId}/external"] = "draws.external",
        ["POST /api/campaigns/{campaignId}/draws/{drawId}/run"] = "draws.run",
        ["GET /api/campaigns/{campaignId}/draws/{drawId}/winners"] = "winners.contacts",
        ["PUT /api/campaigns/{campaignId}/draws/{drawId}/winners/{position:int}/status"] = "draws.run",
        ["POST /api/campaigns/{campaignId}/draws/{drawId}/winners/{position:int}/promote"] = "draws.run",
        ["GET /api/public/campaigns/{campaignId}/draws/{drawId}/record"] = "public",
        ["GET /api/public/campaigns/{campaignId}/draws/{drawId}/eligible.txt"] = "public",
        ["GET /api/public/campaigns/{campaignId}/draws/{drawId}/winners"] = "public",
        ["GET /api/me/campaigns/{campaignId}/draw-id"] = "fan",
        // Episodes
        ["POST /api/campaigns/{campaignId}/series/preview"] = "episodes.edit",
        ["POST /api/campaigns/{campaignId}/series"] = "episodes.edit",
        ["GET /api/campaigns/{campaignId}/series"] = "episodes.read",
        ["GET /api/campaigns/{campaignId}/series/{seriesId}"] = "episodes.read",
        ["POST /api/campaigns/{campaignId}/series/{seriesId}/episodes"] = "episodes.edit",
        ["PUT /api/campaigns/{campaignId}/series/{seriesId}/order"] = "episodes.edit",
        ["GET /api/campaigns/{campaignId}/episodes/{episodeId}"] = "episodes.read",
        ["PUT /api/campaigns/{campaignId}/episodes/{episodeId}"] = "episodes.edit",
        ["POST /api/campaigns/{campaignId}/episodes/{episodeId}/schedule"] = "episodes.edit",
        ["POST /api/campaigns/{campaignId}/episodes/{episodeId}/unschedule"] = "episodes.edit",
        ["POST /api/campaigns/{campaignId}/episodes/{episodeId}/cancel"] = "episodes.edit",
        ["GET /api/campaigns/{campaignId}/episode-settings"] = "episodes.settings.read",
        ["PUT /api/campaigns/{campaignId}/episode-settings"] = "episodes.settings.edit",
        ["GET /api/campaigns/{campaignId}/episode-settings/webhook-secrets"] = "episodes.settings.edit",
        ["POST /api/campaigns/{campaignId}/episode-settings/webhook-secrets/rotate"] = "episodes.settings.edit",
        ["DELETE /api/campaigns/{campaignId}/episode-settings/webhook-secrets/previous"] = "episodes.settings.edit",
        ["GET /api/campaigns/{campaignId}/schedule/audit"] = "episodes.read",
        ["GET /api/campaigns/{campaignId}/schedule/phases"] = "episodes.read",
        ["GET /api/campaigns/{campaignId}/schedule/parked"] = "episodes.read",
        ["POST /api/campaigns/{campaignId}/schedule/parked/retry"] = "episodes.edit",
        ["POST /api/campaigns/{campaignId}/schedule/sync"] = "episodes.edit",
        ["GET /api/campaigns/{campaignId}/episodes/engagement"] = "episodes.read",
        ["GET /api/public/campaigns/{campaignId}/episodes/"] = "public",
        ["GET /api/public/campaigns/{campaignId}/episodes/{episodeId}"] = "public",
        ["POST /api/public/campaigns/{campaignId}/episodes/{episodeId}/views"] = "public",
        ["POST /api/public/campaigns/{campaignId}/episodes/{episodeId}/reactions"] = "fan",
        // Submissions and labels
        ["POST /api/campaigns/{campaignId}/submissions"] = "fan",
        ["POST /api/campaigns/{campaignId}/submissions/{entryId}/complete"] = "fan",
        ["GET /api/me/submissions"] = "fan",
        ["GET /api/me/submissions/{campaignId}/{entryId}"] = "fan",
        ["GET /api/me/label-orders"] = "fan",
        ["GET /api/public/campaigns/{campaignId}/gallery"] = "public",
        ["PUT /api/campaigns/{campaignId}/submission-settings/"] = "submissions.settings.edit",
        ["GET /api/campaigns/{campaignId}/submission-settings/"] = "submissions.settings.read",
        ["PUT /api/campaigns/{campaignId}/label-template"] = "labels.design",
        ["PUT /api/campaigns/{campaignId}/label-template/background"] = "labels.design",
        ["GET /api/campaigns/{campaignId}/label-template"] = "fan",
        ["POST /api/campaigns/{campaignId}/labels/preview"] = "fan",
        ["POST /api/campaigns/{campaignId}/print-batches"] = "labels.fulfil",
        ["GET /api/campaigns/{campaignId}/print-batches"] = "labels.read",
        ["GET /api/campaigns/{campaignId}/print-batches/{batchId}/manifest"] = "labels.fulfil",
        ["POST /api/campaigns/{campaignId}/shipments"] = "labels.fulfil",
        // Voting
        ["GET /api/campaigns/{id}/ballot"] = "campaign.read",
        ["PUT /api/campaigns/{id}/ballot"] = "ballot.edit",
        ["POST /api/campaigns/{id}/rounds/{roundId}/votes"] = "fan",
        ["GET /api/campaigns/{id}/rounds/{roundId}/votes/me"] = "fan",
        ["GET /api/campaigns/{id}/rounds/{roundId}/tally"] = "tally.read",
        ["GET /api/campaigns/{id}/rounds/{roundId}/refusals"] = "tally.read",
        ["POST /api/campaigns/{id}/rounds/{roundId}/reveal"] = "round.reveal",
        ["POST /api/campaigns/{id}/fans/{fanId}/invalidate"] = "votes.invalidate",
        ["POST /api/campaigns/{id}/fans/{fanId}/restore"] = "votes.invalidate",
        ["GET /api/voting/stats"] = "platform.stats",
        ["GET /api/public/campaigns/{id}/ballot"] = "public",
        ["GET /api/public/campaigns/{id}/rounds/{roundId}/results"] = "public",
        ["GET /api/public/voting/reveal-key"] = "public",
        // Data rights
        ["GET /api/me/export"] = "fan",
        ["POST /api/me/erasure"] = "fan",
        ["GET /api/me/erasure"] = "fan",
        ["POST /api/me/submissions/{campaignId}/{entryId}/withdraw"] = "fan",
        ["POST /api/campaigns/{campaignId}/data-requests/export"] = "fans.data_requests",
        ["POST /api/campaigns/{campaignId}/data-requests/erasure"] = "fans.data_requests",
        ["GET /api/campaigns/{campaignId}/data-requests/erasure/{jobId}"] = "fans.data_requests",
    };

    private static readonly string[] StaffRoles = ["owner", "marketer", "moderator", "judge", "viewer"];

    private sealed record Principal(string Name, HttpClient? Client, string Kind, string? Role, bool InWorkspace);

    private enum Access { Allowed, Unauthenticated, Forbidden, Hidden }

    private static List<(string Key, string Method, RouteEndpoint Endpoint)> Routes(IServiceProvider services)
    {
        var sources = services.GetServices<EndpointDataSource>();
        return sources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => ($"{m} {e.RoutePattern.RawText}", m, e)))
            .ToList();
    }

    private static string Declaration(RouteEndpoint e)
    {
        if (e.Metadata.GetMetadata<RequiresPower>() is { } p) return p.Power.Name;
        var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
        if (policies.Contains(Policies.FunctionsHost)) return "host";
        if (policies.Contains(Policies.Fan)) return "fan";
        if (e.Metadata.GetMetadata<IAllowAnonymous>() is not null) return "public";
        return "undeclared";
    }

    [Fact]
    public async Task Every_route_answers_every_kind_of_caller_as_declared()
    {
        await using var app = await TestApp.StartAsync();
        var routes = Routes(app.Services);

        // The table and the program list the same routes, each declared as the table says.
        var actual = routes.ToDictionary(r => r.Key, r => Declaration(r.Endpoint));
        var missing = actual.Keys.Except(Declared.Keys).Order().ToList();
        var stale = Declared.Keys.Except(actual.Keys).Order().ToList();
        Assert.True(missing.Count == 0, "Routes without a row in the authorisation matrix (add them to Declared):\n" +
            string.Join("\n", missing.Select(k => $"        [\"{k}\"] = \"{actual[k]}\",")));
        Assert.True(stale.Count == 0, "Rows for routes the program no longer has: " + string.Join("; ", stale));
        var differ = actual.Where(kv => Declared[kv.Key] != kv.Value).Select(kv => $"{kv.Key}: declared {Declared[kv.Key]}, program {kv.Value}").ToList();
        Assert.True(differ.Count == 0, "Routes whose declared access differs from the program's:\n" + string.Join("\n", differ));

        // The campaign every route is aimed at lives in this app's workspace; a second workspace has the same roles.
        var campaign = await app.CampaignAsync();
        Assert.Equal(200, (int)(await app.As("owner").PostAsync($"/api/campaigns/{campaign}/publish", null)).StatusCode);
        var other = "mx-" + Guid.NewGuid().ToString("N")[..10];
        await TestApp.EnsureWorkspaceAsync(other);
        var principals = new List<Principal>
        {
            new("anonymous", null, "anonymous", null, false),
            new("fan", app.As("fan", "matrix-fan-1"), "fan", null, false),
            new("another fan", app.As("fan", "matrix-fan-2"), "fan", null, false),
            new("operator", app.As("operator", "matrix-operator"), "operator", null, false),
        };
        foreach (var role in StaffRoles)
        {
            principals.Add(new($"{role} here", app.As(role, $"matrix-{role}-here"), "staff", role, true));
            principals.Add(new($"{role} elsewhere", TestApp.ClientFor(app.BaseAddress, other, role, $"matrix-{role}-elsewhere"), "staff", role, false));
        }

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var cells = 0;
        var cases = routes.SelectMany(r => principals.Select(p => (Route: r, Principal: p))).ToList();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (c, ct) =>
        {
            var (key, method, endpoint) = c.Route;
            var declared = Declared[key];
            var expected = Expect(declared, endpoint, c.Principal);
            using var request = new HttpRequestMessage(new HttpMethod(method), Url(endpoint, campaign, app.WorkspaceId));
            if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using var client = c.Principal.Client is null ? new HttpClient { BaseAddress = app.BaseAddress } : null;
            var http = c.Principal.Client ?? client!;
            using var response = await http.SendAsync(request, ct);
            var got = await Classify(response, declared);
            Interlocked.Increment(ref cells);
            if (got != expected) failures.Add($"{key} as {c.Principal.Name}: expected {expected}, got {got} ({(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)})");
        });

        output.WriteLine($"authorisation matrix: {routes.Count} routes × {principals.Count} callers = {cells} cells, {failures.Count} failures");
        Assert.Equal(routes.Count * principals.Count, cells);
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Order()));
    }

    private static Access Expect(string declared, RouteEndpoint endpoint, Principal p)
    {
        if (declared == "public") return Access.Allowed;
        if (p.Kind == "anonymous") return Access.Unauthenticated;
        if (declared == "host") return Access.Forbidden;
        if (declared == "fan") return p.Kind == "fan" ? Access.Allowed : Access.Forbidden;
        if (p.Kind == "fan") return Access.Forbidden;
        var power = Powers.ByName(declared);
        var scoped = endpoint.RoutePattern.Parameters.Any(x => x.Name is "workspaceId" or "campaignId" or "id");
        if (!scoped)
            return power.Roles.Length > 0 || (p.Kind == "operator" && power.Operator) ? Access.Allowed : Access.Forbidden;
        if (p.Kind == "operator") return power.Operator ? Access.Allowed : Access.Hidden;
        if (!p.InWorkspace) return Access.Hidden;
        var role = TestApp.WorkspaceRoleOf(p.Role!)!.Value;
        return power.Allows(role) ? Access.Allowed : Access.Forbidden;
    }

    /// <summary>What the caller got from the gate: anything past it (even a 400 for the empty body) is "allowed".</summary>
    private static async Task<Access> Classify(HttpResponseMessage response, string declared)
    {
        var status = (int)response.StatusCode;
        if (status == 401) return Access.Unauthenticated;
        if (declared is "public" or "fan" or "host") return status == 403 ? Access.Forbidden : Access.Allowed;
        string? code = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            var body = await response.Json();
            code = body.TryGetProperty("code", out var c) ? c.GetString() : null;
        }
        return (status, code) switch
        {
            (403, "forbidden") => Access.Forbidden,
            (404, "campaign_not_found" or "workspace_not_found") => Access.Hidden,
            _ => Access.Allowed,
        };
    }

    private static string Url(RouteEndpoint endpoint, string campaign, string workspace)
    {
        var parts = endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart l => l.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternSeparatorPart s => s.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p => p.Name switch
            {
                "campaignId" or "id" => campaign,
                "workspaceId" => workspace,
                "position" => "1",
                "functionName" => "EpisodesScheduler",
                "subject" => "matrix-nobody",
                _ => "x-" + p.Name.ToLowerInvariant(),
            },
            _ => "",
        })));
        return "/" + string.Join('/', parts);
    }
}
