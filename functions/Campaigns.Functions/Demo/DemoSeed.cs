using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Workspaces;

namespace Campaigns.Demo;

/// <summary>
/// With Demo__Seed=true (scripts/dev) the program seeds two workspaces with their own staff, so the separation can be
/// seen: Porsche's configure-a-car vote and Spread's fan-stories drive. Insert-if-absent, so restarts keep whatever
/// the demo user changed.
/// </summary>
public sealed class DemoSeed(CampaignStore campaigns, WorkspaceStore workspaces, TimeProvider time, ILogger<DemoSeed> logger) : IStartupTask
{
    public const string CampaignId = "configure-the-911";
    public const string StoriesCampaignId = "spread-fan-stories";

    /// <summary>The demo's staff: workspace, subject (use with <c>scripts/token staff SUBJECT</c>), role.</summary>
    public static readonly (string Workspace, string Subject, WorkspaceRole Role)[] Staff =
    [
        ("porsche", "olivia", WorkspaceRole.Owner),
        ("porsche", "alice", WorkspaceRole.Marketer),
        ("porsche", "mo", WorkspaceRole.Moderator),
        ("porsche", "jude", WorkspaceRole.Judge),
        ("porsche", "vic", WorkspaceRole.Viewer),
        ("spread", "sam", WorkspaceRole.Owner),
        ("spread", "bob", WorkspaceRole.Marketer),
        ("spread", "mia", WorkspaceRole.Moderator),
    ];

    public async Task RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await SeedWorkspaceAsync("porsche", "Porsche", now, ct);
        await SeedWorkspaceAsync("spread", "Spread", now, ct);
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        await SeedCampaignAsync(new CampaignInput(
            Id: CampaignId,
            Name: "Build the 911 our fans choose",
            Brand: "Porsche",
            TimeZone: "Europe/Berlin",
            Locales: ["en", "de", "fr"],
            Features: [CampaignFeature.Voting],
            Windows: new CampaignWindows(
                Publish: new TimeWindow(today.AddDays(-2), today.AddDays(60)),
                Voting: new TimeWindow(today.AddDays(-1), today.AddDays(21)),
                Reveal: today.AddDays(22)),
            Eligibility: new Eligibility(MinAge: 18, Countries: ["DE", "AT", "CH", "FR", "GB", "US"]),
            Rules: new VersionedText("2026-11", new()
            {
                ["en"] = "One ballot per fan: pick one option in each category. Voting closes at the end of the voting window; results are revealed afterwards.",
                ["de"] = "Ein Stimmzettel pro Fan: Wählen Sie in jeder Kategorie eine Option.",
                ["fr"] = "Un bulletin par fan : choisissez une option par catégorie.",
            }),
            PrizeDraw: new VersionedText("2026-11", new()
            {
                ["en"] = "I agree that I may be drawn for the track-day prize and contacted if I win.",
            }),
            PublicDisplay: new VersionedText("2026-11", new()
            {
                ["en"] = "Show my display name if I win.",
            })), "porsche", now, ct);
        await SeedCampaignAsync(new CampaignInput(
            Id: StoriesCampaignId,
            Name: "Your breakfast story",
            Brand: "Spread",
            TimeZone: "Europe/Rome",
            Locales: ["it", "en"],
            Features: [CampaignFeature.Submissions],
            Windows: new CampaignWindows(
                Publish: new TimeWindow(today.AddDays(-2), today.AddDays(60)),
                Entry: new TimeWindow(today.AddDays(-1), today.AddDays(30))),
            Rules: new VersionedText("2026-11", new()
            {
                ["it"] = "Racconta la tua colazione in 5.000 caratteri al massimo.",
                ["en"] = "Tell us about your breakfast in at most 5,000 characters.",
            })), "spread", now, ct);
    }

    private async Task SeedWorkspaceAsync(string id, string name, DateTimeOffset now, CancellationToken ct)
    {
        var members = Staff.Where(s => s.Workspace == id).ToList();
        var owner = members.First(m => m.Role == WorkspaceRole.Owner);
        await workspaces.CreateAsync(new Workspace(id, name, now, "demo"),
            new Membership(id, owner.Subject, WorkspaceRole.Owner, null, now, "demo", now),
            new WorkspaceAuditEntry(id, now, "demo", "workspace.created", owner.Subject, "demo seed"), ct);
        foreach (var m in members.Where(m => m.Role != WorkspaceRole.Owner))
            if (await workspaces.GetMemberAsync(id, m.Subject, ct) is null)
                await workspaces.PutMemberAsync(new Membership(id, m.Subject, m.Role, null, now, "demo", now),
                    new WorkspaceAuditEntry(id, now, "demo", "member.added", m.Subject, m.Role.ToString().ToLowerInvariant()), ct);
    }

    private async Task SeedCampaignAsync(CampaignInput input, string workspaceId, DateTimeOffset now, CancellationToken ct)
    {
        if (await campaigns.GetAsync(input.Id!, ct) is not null) return;
        var campaign = CampaignRules.Create(input, input.Id!, workspaceId, now) with { Status = CampaignStatus.Published, PublishedAt = now };
        try
        {
            await campaigns.CreateAsync(campaign, ct);
            logger.LogInformation("Seeded demo campaign {CampaignId} in workspace {Workspace}", campaign.Id, workspaceId);
        }
        catch (ProblemException) { /* another instance seeded it first */ }
    }
}

public static class DemoSetup
{
    public static void AddDemo(this WebApplicationBuilder builder)
    {
        if (bool.TryParse(builder.Configuration["Demo:Seed"], out var seed) && seed)
            builder.Services.AddSingleton<IStartupTask, DemoSeed>();
    }
}
