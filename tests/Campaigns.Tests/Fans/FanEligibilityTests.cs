using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Fans;

namespace Campaigns.Tests.Fans;

/// <summary>Age and country rules fail closed; the identity provider's claims count before the stored profile.</summary>
public sealed class FanEligibilityTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Eligibility Adults = new(18, ["CH", "DE"]);
    private static DateOnly Born(int yearsAgo) => DateOnly.FromDateTime(Now.UtcDateTime).AddYears(-yearsAgo);

    [Fact]
    public void Without_the_data_a_fan_is_asked_for_exactly_the_missing_fields()
    {
        var none = FanEligibility.Check(Adults, EligibilityFacts.None, Now, "Voters")!;
        Assert.Equal((403, "profile_required"), (none.Status, none.Code));
        Assert.Equal(["birthDate", "country"], none.Errors!.Keys.Order());
        var noCountry = FanEligibility.Check(Adults, new EligibilityFacts(Born(30), null), Now, "Voters")!;
        Assert.Equal(["country"], noCountry.Errors!.Keys);
        Assert.Null(FanEligibility.Check(new Eligibility(), EligibilityFacts.None, Now, "Voters")); // no rules: nothing needed
        Assert.Null(FanEligibility.Check(new Eligibility(MinAge: 18), new EligibilityFacts(Born(30), null), Now, "Voters"));
    }

    [Fact]
    public void Known_data_outside_the_rules_is_ineligible_and_inside_passes()
    {
        Assert.Equal("ineligible", FanEligibility.Check(Adults, new EligibilityFacts(Born(17), "CH"), Now, "Voters")!.Code);
        Assert.Equal("ineligible", FanEligibility.Check(Adults, new EligibilityFacts(Born(30), "FR"), Now, "Voters")!.Code);
        Assert.Null(FanEligibility.Check(Adults, new EligibilityFacts(Born(18), "de"), Now, "Voters"));
    }

    [Fact]
    public void Token_claims_count_first_and_the_profile_fills_the_rest()
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim("birthdate", "1990-04-02"), new Claim("ctry", "ch")], "test"));
        var token = FanEligibility.FromClaims(user);
        Assert.Equal(new EligibilityFacts(new DateOnly(1990, 4, 2), "CH"), token);
        Assert.False(FanEligibility.NeedsProfile(Adults, token));
        var profile = new FanProfile("f", null, "FR", new DateOnly(2015, 1, 1), false, Now);
        Assert.Equal(token, FanEligibility.Merge(token, profile)); // the verified claims win over what the fan typed
        var partial = FanEligibility.FromClaims(new ClaimsPrincipal(new ClaimsIdentity([new Claim("country", "DE")], "test")));
        Assert.True(FanEligibility.NeedsProfile(Adults, partial));
        Assert.Equal(new EligibilityFacts(new DateOnly(2015, 1, 1), "DE"), FanEligibility.Merge(partial, profile));
        Assert.Equal(EligibilityFacts.None, FanEligibility.FromClaims(new ClaimsPrincipal(new ClaimsIdentity([new Claim("birthdate", "not a date")], "test"))));
    }
}
