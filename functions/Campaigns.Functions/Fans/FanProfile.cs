namespace Campaigns.Fans;

/// <summary>A fan's own profile. Personal data: visible to the fan and to admins only.</summary>
public sealed record FanProfile(
    string FanId,
    string? DisplayName,
    string? Country,
    DateOnly? BirthDate,
    bool IsStaff,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Age in whole years on the day of <paramref name="at"/> (UTC); null when the birth date is unknown.</summary>
    public int? AgeAt(DateTimeOffset at)
    {
        if (BirthDate is not { } b) return null;
        var day = DateOnly.FromDateTime(at.UtcDateTime);
        var age = day.Year - b.Year;
        if (day.Month < b.Month || (day.Month == b.Month && day.Day < b.Day)) age--; // a 29 February birthday counts from 1 March
        return age;
    }
}

public sealed record ProfileInput(string? DisplayName = null, string? Country = null, DateOnly? BirthDate = null);

/// <summary>What a fan accepted for one campaign; each grant has its own timestamp.</summary>
public sealed record CampaignConsent(
    string FanId,
    string CampaignId,
    string RulesVersion,
    DateTimeOffset RulesAcceptedAt,
    DateTimeOffset? RightsGrantedAt,
    DateTimeOffset? AgeConfirmedAt,
    bool MarketingOptIn,
    DateTimeOffset? MarketingOptInAt,
    bool ShowNamePublicly,
    DateTimeOffset? ShowNamePubliclyAt);

public sealed record ConsentInput(string RulesVersion, bool RightsGrant = false, bool AgeConfirmed = false,
    bool MarketingOptIn = false, bool ShowNamePublicly = false);
