using System.Net.Http.Json;
using Campaigns.Campaigns;
using Campaigns.Tests.Infrastructure;
using Campaigns.Workspaces;

namespace Campaigns.Tests.Workspaces;

/// <summary>Staff authority comes from workspace memberships; another brand's campaigns do not exist for you.</summary>
public sealed class WorkspaceAccessTests
{
    private static object Draft(string id, string? workspaceId = null) => new
    {
        id,
        workspaceId,
        name = "Build the car",
        brand = "Cars",
        timeZone = "Europe/Berlin",
        locales = new[] { "en" },
        features = new[] { "voting" },
    };

    private static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_marketer_of_another_workspace_can_neither_list_read_nor_archive_a_draft()
    {
        await using var app = await TestApp.StartAsync();
        var owner = app.As("owner");
        var mine = app.As("marketer");
        var other = NewId("ws");
        await TestApp.EnsureWorkspaceAsync(other);
        var rival = TestApp.ClientFor(app.BaseAddress, other, "marketer", NewId("rival"));

        var id = NewId("draft");
        Assert.Equal(201, (int)(await mine.PostAsJsonAsync("/api/campaigns", Draft(id))).StatusCode);

        var listed = await (await rival.GetAsync("/api/campaigns?pageSize=200")).Json();
        Assert.DoesNotContain(listed.GetProperty("items").EnumerateArray(), c => c.GetProperty("id").GetString() == id);
        await (await rival.GetAsync($"/api/campaigns/{id}")).Problem(404, "campaign_not_found");
        await (await rival.PostAsync($"/api/campaigns/{id}/archive", null)).Problem(404, "campaign_not_found");
        await (await rival.GetAsync($"/api/campaigns/{id}/ballot")).Problem(404, "campaign_not_found");
        await (await rival.GetAsync($"/api/moderation/campaigns/{id}/settings")).Problem(404, "campaign_not_found");
        // The same answer as for a campaign that does not exist at all: nothing is confirmed.
        await (await rival.GetAsync($"/api/campaigns/{NewId("nothing")}")).Problem(404, "campaign_not_found");

        var ownList = await (await mine.GetAsync("/api/campaigns?pageSize=200")).Json();
        var row = Assert.Single(ownList.GetProperty("items").EnumerateArray(), c => c.GetProperty("id").GetString() == id);
        Assert.Equal(app.WorkspaceId, row.GetProperty("workspaceId").GetString());
        Assert.Equal(200, (int)(await owner.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
    }

    [Fact]
    public async Task Roles_inside_the_workspace_decide_and_a_campaign_cannot_be_created_in_a_workspace_you_are_not_in()
    {
        await using var app = await TestApp.StartAsync();
        var id = NewId("roles");
        var marketer = app.As("marketer");
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync("/api/campaigns", Draft(id))).StatusCode);

        await (await app.As("moderator").PostAsync($"/api/campaigns/{id}/archive", null)).Problem(403, "forbidden");
        await (await app.As("judge").PutAsJsonAsync($"/api/campaigns/{id}/episode-settings", new { })).Problem(403, "forbidden");
        await (await app.As("judge").GetAsync($"/api/campaigns/{id}/episode-settings")).Problem(403, "forbidden");
        await (await app.As("viewer").PostAsJsonAsync("/api/campaigns", Draft(NewId("v")))).Problem(403, "forbidden");
        await (await app.As("moderator").PostAsync($"/api/campaigns/{id}/fans/fan-1/invalidate", null)).Problem(403, "forbidden");
        Assert.Equal(200, (int)(await app.As("viewer").GetAsync($"/api/campaigns/{id}")).StatusCode);

        var elsewhere = NewId("ws");
        await TestApp.EnsureWorkspaceAsync(elsewhere);
        await (await marketer.PostAsJsonAsync("/api/campaigns", Draft(NewId("x"), elsewhere))).Problem(404, "workspace_not_found");
        // A marketer in two workspaces must say which one.
        var both = NewId("both");
        var inTwo = TestApp.ClientFor(app.BaseAddress, app.WorkspaceId, "marketer", both);
        await TestApp.EnsureMemberAsync(elsewhere, both, "marketer");
        await (await inTwo.PostAsJsonAsync("/api/campaigns", Draft(NewId("y")))).Problem(400, "workspace_required");
        Assert.Equal(201, (int)(await inTwo.PostAsJsonAsync("/api/campaigns", Draft(NewId("y"), elsewhere))).StatusCode);
    }

    [Fact]
    public async Task An_operator_creates_a_workspace_whose_owner_manages_members_and_every_change_is_audited()
    {
        await using var app = await TestApp.StartAsync();
        var op = app.As("operator", NewId("op"));
        var ws = NewId("brand");
        var ownerId = NewId("owner");
        var marketerId = NewId("mk");

        await (await app.As("owner").PostAsJsonAsync("/api/workspaces", new { id = ws, name = "Brand", owner = new { subject = ownerId } })).Problem(403, "forbidden");
        var created = await op.PostAsJsonAsync("/api/workspaces", new { id = ws, name = "Brand", owner = new { subject = ownerId, email = "o@brand.example" } });
        Assert.Equal(201, (int)created.StatusCode);
        await (await op.PostAsJsonAsync("/api/workspaces", new { id = ws, name = "Again", owner = new { subject = ownerId } })).Problem(409, "workspace_exists");

        var owner = app.As("staff", ownerId);
        var marketer = app.As("staff", marketerId);
        var mine = await (await owner.GetAsync("/api/workspaces")).Json();
        var entry = Assert.Single(mine.GetProperty("items").EnumerateArray());
        Assert.Equal((ws, "owner"), (entry.GetProperty("id").GetString(), entry.GetProperty("myRole").GetString()));

        // Before being added the marketer sees nothing of the workspace.
        await (await marketer.GetAsync($"/api/workspaces/{ws}")).Problem(404, "workspace_not_found");
        await (await marketer.PostAsJsonAsync("/api/campaigns", Draft(NewId("c"), ws))).Problem(404, "workspace_not_found");
        Assert.Equal(201, (int)(await owner.PutAsJsonAsync($"/api/workspaces/{ws}/members/{marketerId}", new { role = "marketer", email = "m@brand.example" })).StatusCode);
        var campaign = NewId("c");
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync("/api/campaigns", Draft(campaign, ws))).StatusCode);
        // A marketer does not manage members; another brand's owner does not even see the workspace.
        await (await marketer.PutAsJsonAsync($"/api/workspaces/{ws}/members/{NewId("x")}", new { role = "owner" })).Problem(403, "forbidden");
        await (await app.As("owner").GetAsync($"/api/workspaces/{ws}/members")).Problem(404, "workspace_not_found");

        Assert.Equal(200, (int)(await owner.PutAsJsonAsync($"/api/workspaces/{ws}/members/{marketerId}", new { role = "viewer" })).StatusCode);
        await (await marketer.PostAsync($"/api/campaigns/{campaign}/archive", null)).Problem(403, "forbidden");
        await (await owner.DeleteAsync($"/api/workspaces/{ws}/members/{ownerId}")).Problem(409, "last_owner");
        Assert.Equal(204, (int)(await owner.DeleteAsync($"/api/workspaces/{ws}/members/{marketerId}")).StatusCode);
        await (await marketer.GetAsync($"/api/campaigns/{campaign}")).Problem(404, "campaign_not_found");

        var members = await (await owner.GetAsync($"/api/workspaces/{ws}/members")).Json();
        Assert.Equal([ownerId], members.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("subject").GetString()));
        var audit = (await (await owner.GetAsync($"/api/workspaces/{ws}/audit")).Json()).GetProperty("items").EnumerateArray()
            .Select(a => (a.GetProperty("action").GetString(), a.GetProperty("actor").GetString(), a.GetProperty("target").GetString())).ToList();
        Assert.Equal(new (string?, string?, string?)[]
        {
            ("member.removed", ownerId, marketerId), ("member.changed", ownerId, marketerId),
            ("member.added", ownerId, marketerId), ("workspace.created", ExtractSubject(op), ownerId),
        }, audit);

        // Operators repair: they can add an owner to any workspace and list them all, but not run its campaigns.
        Assert.Equal(201, (int)(await op.PutAsJsonAsync($"/api/workspaces/{ws}/members/{NewId("o2")}", new { role = "owner" })).StatusCode);
        var all = await (await op.GetAsync("/api/workspaces?pageSize=200")).Json();
        Assert.Contains(all.GetProperty("items").EnumerateArray(), w => w.GetProperty("id").GetString() == ws);
        await (await op.PostAsync($"/api/campaigns/{campaign}/archive", null)).Problem(404, "campaign_not_found");
    }

    [Fact]
    public async Task Reading_winners_contacts_is_allowed_to_marketers_and_audited()
    {
        await using var app = await TestApp.StartAsync();
        var id = await app.CampaignAsync();
        var subject = NewId("mk");
        var marketer = app.As("marketer", subject);
        await (await marketer.GetAsync($"/api/campaigns/{id}/draws/no-such-draw/winners")).Problem(404, "draw_not_found");
        await (await app.As("moderator").GetAsync($"/api/campaigns/{id}/draws/no-such-draw/winners")).Problem(403, "forbidden");
        var audit = await (await app.As("owner").GetAsync($"/api/workspaces/{app.WorkspaceId}/audit")).Json();
        Assert.DoesNotContain(audit.GetProperty("items").EnumerateArray(), a => a.GetProperty("action").GetString() == "winners.contacts_read");
    }

    [Fact]
    public async Task Campaigns_from_before_workspaces_move_into_the_default_workspace_at_start()
    {
        await using var app = await TestApp.StartAsync();
        var store = app.Service<CampaignStore>();
        var id = NewId("legacy");
        var input = new CampaignInput("Old", "Brand", "Europe/Zurich", ["en"], [CampaignFeature.Voting]);
        await store.CreateAsync(CampaignRules.Create(input, id, "ignored", DateTimeOffset.UtcNow) with { WorkspaceId = null }, default);
        Assert.Null((await store.GetAsync(id, default))!.Value.Campaign.WorkspaceId);

        foreach (var task in app.Services.GetServices<IStartupTask>().OfType<WorkspaceMigration>()) await task.RunAsync(default);

        var defaultWorkspace = app.Service<Microsoft.Extensions.Options.IOptions<WorkspacesOptions>>().Value.DefaultWorkspace;
        Assert.Equal(defaultWorkspace, (await store.GetAsync(id, default))!.Value.Campaign.WorkspaceId);
        Assert.NotNull(await app.Service<WorkspaceStore>().GetAsync(defaultWorkspace, default));
    }

    [Fact]
    public async Task Trigger_endpoints_refuse_a_loopback_caller_without_the_host_or_the_process_key()
    {
        await using var app = await TestApp.StartAsync();
        var payload = """{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}""";
        // What a webhook aimed at http://127.0.0.1:7071/EpisodesScheduler would send: loopback, no key, no token (401).
        await (await app.Client.PostRaw("/EpisodesScheduler", payload)).Problem(401, "unauthorized");
        using var withHostHeader = new HttpRequestMessage(HttpMethod.Post, "/EpisodesScheduler") { Content = new StringContent(payload) };
        withHostHeader.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
        await (await app.Client.SendAsync(withHostHeader)).Problem(401, "unauthorized"); // standalone: no host to trust
        // Nor does any token open it: a fan's or a workspace owner's.
        await (await app.As("owner").PostAsync("/EpisodesScheduler", new StringContent(payload))).Problem(403, "forbidden");
        Assert.Equal(200, (int)(await app.InvokeAsync("EpisodesScheduler", payload)).StatusCode);
    }

    [Fact]
    public void The_program_refuses_to_build_in_Azure_with_the_dev_signing_key()
    {
        var settings = TestApp.Settings(Azurite.Instance);
        settings["WEBSITE_INSTANCE_ID"] = "instance-1";
        var error = Assert.Throws<InvalidOperationException>(() =>
            CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings)));
        Assert.Contains("Auth__DevSigningKey", error.Message);
        Assert.Contains("Voting__CaptchaProvider", error.Message);
        Assert.Contains("Submissions__UploadCorsOrigins", error.Message);
    }

    private static string ExtractSubject(HttpClient client)
        => new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(client.DefaultRequestHeaders.Authorization!.Parameter).Subject;
}
