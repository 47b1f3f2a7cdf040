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
        // A 29 February birthday falls on 1 March in common years (AddYears would clamp it to 28 February).
        var birthday = b is { Month: 2, Day: 29 } && !DateTime.IsLeapYear(day.Year) ? new DateOnly(day.Year, 3, 1) : b.AddYears(age);
        if (day < birthday) age--;
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
