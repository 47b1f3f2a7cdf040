using System.Globalization;
using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Platform;

namespace Campaigns.Fans;

/// <summary>What eligibility rules look at: a birth date and a country, from the token or the stored profile.</summary>
public sealed record EligibilityFacts(DateOnly? BirthDate, string? Country)
{
    public static readonly EligibilityFacts None = new(null, null);

    public FanProfile AsProfile(string fanId, DateTimeOffset now) => new(fanId, null, Country, BirthDate, false, now);
}

/// <summary>
/// Eligibility that fails closed: when a campaign sets a minimum age or countries, a fan whose age or country is not
/// known is refused with <c>profile_required</c> naming the fields, so the microsite can ask for them — instead of
/// passing because there was nothing to check. The identity provider's claims count first (they are verified by it);
/// the fan's own profile fills what the token does not carry.
/// </summary>
public static class FanEligibility
{
    /// <summary>OIDC <c>birthdate</c> (YYYY-MM-DD) and <c>country</c>, or Entra's <c>ctry</c>.</summary>
    public static EligibilityFacts FromClaims(ClaimsPrincipal user)
    {
        DateOnly? birth = DateOnly.TryParseExact(user.FindFirst("birthdate")?.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture,
            DateTimeStyles.None, out var b) ? b : null;
        var country = user.FindFirst("country")?.Value ?? user.FindFirst("ctry")?.Value;
        return new(birth, string.IsNullOrWhiteSpace(country) ? null : country.Trim().ToUpperInvariant());
    }

    /// <summary>The token's facts, completed by the profile where the token is silent.</summary>
    public static EligibilityFacts Merge(EligibilityFacts token, FanProfile? profile)
        => new(token.BirthDate ?? profile?.BirthDate, token.Country ?? (string.IsNullOrWhiteSpace(profile?.Country) ? null : profile.Country));

    /// <summary>True when the rules need something the token does not carry (then read the profile).</summary>
    public static bool NeedsProfile(Eligibility e, EligibilityFacts token)
        => (e.MinAge is not null && token.BirthDate is null) || (e.Countries is { Length: > 0 } && token.Country is null);

    /// <summary>Null when the fan may take part; else <c>profile_required</c> (data missing) or <c>ineligible</c>.</summary>
    public static ApiProblem? Check(Eligibility e, EligibilityFacts f, DateTimeOffset now, string who)
    {
        var missing = new Dictionary<string, string[]>();
        if (e.MinAge is { } min && f.BirthDate is null) missing["birthDate"] = [$"{who} must be at least {min}: add your date of birth to your profile."];
        if (e.Countries is { Length: > 0 } && f.Country is null) missing["country"] = ["This campaign is open in some countries only: add your country to your profile."];
        if (missing.Count > 0)
            return new ApiProblem(403, "profile_required", "Your profile is missing data this campaign needs.",
                "Add the fields named in 'errors' (PUT /api/me/profile) and try again.", missing);
        var facts = f.AsProfile("", now);
        if (e.MinAge is { } m && facts.AgeAt(now) < m) return new ApiProblem(403, "ineligible", "You cannot take part in this campaign.", $"{who} must be at least {m}.");
        if (e.Countries is { Length: > 0 } countries && !countries.Contains(f.Country, StringComparer.OrdinalIgnoreCase))
            return new ApiProblem(403, "ineligible", "You cannot take part in this campaign.", "It is not open in your country.");
        return null;
    }
}
