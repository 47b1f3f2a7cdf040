using Campaigns.Campaigns;

namespace Campaigns.Tests.CampaignManagement;

public sealed class CampaignRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 18, 0, 0, TimeSpan.Zero);

    internal static CampaignInput Valid(string? id = null) => new(
        Name: "Build the 911 our fans choose", Brand: "Porsche", TimeZone: "Europe/Zurich", Locales: ["en", "de-CH"],
        Features: [CampaignFeature.Voting], Id: id,
        Windows: new CampaignWindows(new TimeWindow(T0, T0.AddDays(30)), null, new TimeWindow(T0.AddDays(1), T0.AddDays(10)), T0.AddDays(11)),
        Eligibility: new Eligibility(18, ["CH", "DE"]),
        Rules: new VersionedText("v1", new() { ["en"] = "Rules" }));

    [Fact]
    public void A_valid_campaign_has_no_errors() => Assert.Empty(CampaignRules.Validate(Valid("porsche-911")));

    [Theory]
    [InlineData("Europe/Zurch", "timeZone")]
    [InlineData("CET+1", "timeZone")]
    public void Unknown_zones_are_refused(string zone, string field)
        => Assert.Contains(field, CampaignRules.Validate(Valid() with { TimeZone = zone }).Keys);

    [Fact]
    public void Windows_out_of_order_are_refused()
    {
        var w = Valid().Windows!;
        var errors = CampaignRules.Validate(Valid() with
        {
            Windows = w with { Voting = new TimeWindow(T0.AddDays(5), T0.AddDays(4)), Reveal = T0.AddDays(3) },
        });
        Assert.Contains("windows.voting", errors.Keys);
        Assert.Contains("windows.reveal", errors.Keys);
        var outside = CampaignRules.Validate(Valid() with { Windows = w with { Voting = new TimeWindow(T0.AddDays(-1), T0.AddDays(2)) } });
        Assert.Contains("windows.voting", outside.Keys);
    }

    [Fact]
    public void Strings_too_long_bad_locales_countries_and_ids_are_refused()
    {
        var errors = CampaignRules.Validate(Valid("Bad Id!") with
        {
            Name = new string('x', CampaignRules.MaxName + 1), Locales = ["english"],
            Eligibility = new Eligibility(150, ["che"]),
            Rules = new VersionedText("v1", new() { ["it"] = "Regole" }),
        });
        Assert.Equal(new[] { "eligibility.countries", "eligibility.minAge", "id", "locales", "name", "rules.text" }, errors.Keys.Order().ToArray());
    }

    [Fact]
    public void Archived_campaigns_cannot_change_or_be_published()
    {
        var c = CampaignRules.Create(Valid("c-archived"), "c-archived", "ws-1", T0);
        var archived = CampaignRules.Archive(c, T0).Value!;
        Assert.Equal(CampaignStatus.Archived, archived.Status);
        Assert.Equal("campaign_archived", CampaignRules.Update(archived, Valid(), T0).Code);
        Assert.Equal("campaign_archived", CampaignRules.Publish(archived, T0).Code);
        Assert.Equal("id_immutable", CampaignRules.Update(c, Valid("other-id"), T0).Code);
    }

    [Fact]
    public void Phase_follows_the_windows()
    {
        var c = CampaignRules.Create(Valid(), "c1", "ws-1", T0) with { Status = CampaignStatus.Published };
        Assert.Equal("upcoming", CampaignRules.Phase(c, T0.AddHours(-1)));
        Assert.Equal("upcoming", CampaignRules.Phase(c, T0.AddHours(1)));
        Assert.Equal("voting-open", CampaignRules.Phase(c, T0.AddDays(1)));
        Assert.Equal("voting-closed", CampaignRules.Phase(c, T0.AddDays(10)));
        Assert.Equal("revealed", CampaignRules.Phase(c, T0.AddDays(11)));
    }

    [Fact]
    public void Local_rendering_uses_the_campaign_zone_across_dst()
    {
        var c = CampaignRules.Create(Valid(), "c1", "ws-1", T0);
        Assert.Equal("2026-12-01T19:00:00+01:00", c.Local(T0));
        Assert.Equal("2026-07-01T20:00:00+02:00", c.Local(new DateTimeOffset(2026, 7, 1, 18, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Generated_ids_are_slugs_with_a_suffix()
    {
        var id = CampaignRules.NewId("Crème brûlée — Fan Stories!", new Random(1));
        Assert.Matches("^creme-brulee-fan-stories-[a-z2-9]{6}$", id);
        Assert.Matches(CampaignRules.IdPattern(), id);
    }
}
