using Campaigns.Campaigns;
using Campaigns.Demo;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

/// <summary>
/// With Demo__Seed=true: the configure-a-car ballot of the demo campaign, one round open through the campaign's voting
/// window. Insert-if-absent, so restarts keep what the demo user changed.
/// </summary>
public sealed class VotingDemoSeed(CampaignStore campaigns, BallotStore ballots, IOptions<VotingOptions> options, TimeProvider time,
    ILogger<VotingDemoSeed> logger) : IStartupTask
{
    public const string RoundId = "final";

    public async Task RunAsync(CancellationToken ct)
    {
        if (await ballots.GetAsync(DemoSeed.CampaignId, ct) is not null) return;
        if (await campaigns.GetAsync(DemoSeed.CampaignId, ct) is not { } c) return;
        var input = new BallotInput(Mode: VoteMode.LastWins, Tally: TallyVisibility.Admins, RequireCaptcha: false, Rounds:
        [
            new RoundInput(RoundId, L("Build the 911", "Bau den 911", "Construisez la 911"), RoundKind.Ballot,
            [
                Cat("exterior-colour", L("Exterior colour", "Außenfarbe", "Couleur extérieure"),
                    O("guards-red", "Guards Red", "Indischrot", "Rouge Indien"), O("gentian-blue", "Gentian Blue Metallic", "Enzianblau Metallic", "Bleu Gentiane métallisé"),
                    O("chalk", "Chalk", "Kreide", "Craie"), O("python-green", "Python Green", "Pythongrün", "Vert Python"),
                    O("jet-black", "Jet Black Metallic", "Tiefschwarz Metallic", "Noir Intense métallisé")),
                Cat("wheels", L("Wheels", "Räder", "Jantes"),
                    O("carrera-s-20-21", "20/21-inch Carrera S", "20/21-Zoll Carrera S", "Carrera S 20/21 pouces"),
                    O("turbo-s-centre-lock", "Turbo S centre-lock", "Turbo S Zentralverschluss", "Turbo S écrou central"),
                    O("classic-fuchs", "Classic Fuchs design", "Fuchs-Design", "Design Fuchs"),
                    O("rs-spyder", "RS Spyder design", "RS Spyder Design", "Design RS Spyder")),
                Cat("interior", L("Interior", "Interieur", "Intérieur"),
                    O("black-bordeaux", "Black and Bordeaux Red", "Schwarz-Bordeauxrot", "Noir et rouge Bordeaux"),
                    O("truffle-brown", "Truffle Brown leather", "Leder Trüffelbraun", "Cuir brun truffe"),
                    O("crayon-slate", "Crayon and Slate Grey", "Kreide-Schiefergrau", "Craie et gris ardoise"),
                    O("pepita-tartan", "Pepita tartan", "Pepita-Karo", "Tartan Pepita")),
                Cat("body", L("Body", "Karosserie", "Carrosserie"),
                    O("coupe", "Coupé", "Coupé", "Coupé"), O("targa", "Targa", "Targa", "Targa"), O("cabriolet", "Cabriolet", "Cabriolet", "Cabriolet")),
                Cat("seats", L("Seats", "Sitze", "Sièges"),
                    O("sport-plus", "Sports seats Plus", "Sportsitze Plus", "Sièges Sport Plus"),
                    O("adaptive-18-way", "Adaptive sports seats Plus (18-way)", "Adaptive Sportsitze Plus (18-Wege)", "Sièges sport adaptatifs Plus (18 réglages)"),
                    O("full-bucket", "Full bucket seats", "Vollschalensitze", "Sièges baquets")),
            ]),
        ]);
        var (ballot, errors) = VoteRules.Create(input, c.Campaign, null, options.Value.CounterShards, time.GetUtcNow());
        if (ballot is null) throw new InvalidOperationException("Demo ballot is invalid: " + string.Join("; ", errors.Select(e => e.Key + ": " + string.Join(", ", e.Value))));
        try
        {
            await ballots.SaveAsync(ballot, null, ct);
            logger.LogInformation("Seeded demo ballot for {CampaignId}", DemoSeed.CampaignId);
        }
        catch (ProblemException) { /* another instance seeded it first */ }
    }

    private static Dictionary<string, string> L(string en, string de, string fr) => new() { ["en"] = en, ["de"] = de, ["fr"] = fr };
    private static CategoryDef Cat(string id, Dictionary<string, string> label, params OptionDef[] options) => new(id, label, options);
    private static OptionDef O(string id, string en, string de, string fr) => new(id, L(en, de, fr), $"/media/configure-the-911/{id}.jpg");
}
