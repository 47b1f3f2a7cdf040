using Campaigns.Campaigns;
using Campaigns.Platform;

namespace Campaigns.Demo;

/// <summary>
/// With Demo__Seed=true (scripts/dev) the program seeds the configure-a-car demo campaign at start.
/// Insert-if-absent, so restarts keep whatever the demo user changed.
/// </summary>
public sealed class DemoSeed(CampaignStore campaigns, TimeProvider time, ILogger<DemoSeed> logger) : IStartupTask
{
    public const string CampaignId = "configure-the-911";

    public async Task RunAsync(CancellationToken ct)
    {
        if (await campaigns.GetAsync(CampaignId, ct) is not null) return;
        var now = time.GetUtcNow();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var input = new CampaignInput(
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
            Consent: new VersionedText("2026-11", new()
            {
                ["en"] = "I accept the rules and agree that my vote is counted and that I may be drawn for the track-day prize.",
            }));
        var campaign = CampaignRules.Create(input, CampaignId, now) with { Status = CampaignStatus.Published, PublishedAt = now };
        try
        {
            await campaigns.CreateAsync(campaign, ct);
            logger.LogInformation("Seeded demo campaign {CampaignId}", CampaignId);
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
