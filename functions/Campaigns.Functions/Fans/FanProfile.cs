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
        // A 29 February birthday is reached on 1 March in common years: the conservative reading for age gates.
        var birthday = b.Month == 2 && b.Day == 29 && !DateTime.IsLeapYear(day.Year) ? new DateOnly(day.Year, 3, 1) : b.AddYears(age);
        if (day < birthday) age--;
        return age;
    }
}

public sealed record ProfileInput(string? DisplayName = null, string? Country = null, DateOnly? BirthDate = null);

/// <summary>
/// What a fan accepted for one campaign; each grant has its own timestamp and, for the campaign's texts, the version
/// accepted. <see cref="ShowNamePublicly"/> is the public-display choice (name, label texts, photos; the stored name
/// predates the texts). <see cref="History"/> keeps every change, newest last, so an export can show what was accepted
/// when. Consents stored before the texts were versioned separately carry only the rules version.
/// </summary>
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
    DateTimeOffset? ShowNamePubliclyAt,
    string? PrizeDrawVersion = null,
    DateTimeOffset? PrizeDrawAcceptedAt = null,
    string? MarketingVersion = null,
    string? PublicDisplayVersion = null,
    ConsentEvent[]? History = null);

/// <summary>One change of a fan's consent: which text (rules, prizeDraw, marketing, publicDisplay), its version, given or withdrawn, when.</summary>
public sealed record ConsentEvent(string Text, string? Version, bool Given, DateTimeOffset At);

/// <summary>
/// A fan's acceptance: the current rules version (required), the current prize-draw version (required when the
/// campaign carries a prize-draw text), and the optional choices. <c>marketingVersion</c>/<c>publicDisplayVersion</c>,
/// when sent, must be the current ones (the fan saw that text); <c>showNamePublicly</c> is the old name of
/// <c>publicDisplay</c>.
/// </summary>
public sealed record ConsentInput(string RulesVersion, bool RightsGrant = false, bool AgeConfirmed = false,
    bool MarketingOptIn = false, bool ShowNamePublicly = false, string? PrizeDrawVersion = null, bool? PublicDisplay = null,
    string? MarketingVersion = null, string? PublicDisplayVersion = null);
