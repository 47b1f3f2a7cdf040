using System.Text.RegularExpressions;
using Campaigns.Campaigns;

namespace Campaigns.Fans;

public static partial class FanRules
{
    public const int MaxDisplayName = 40;
    [GeneratedRegex("^[A-Z]{2}$")] private static partial Regex Country();

    public static Dictionary<string, string[]> Validate(ProfileInput input, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.DisplayName is { } n && (n.Trim().Length is 0 or > MaxDisplayName || n.Any(char.IsControl)))
            errors["displayName"] = [$"1–{MaxDisplayName} characters, no control characters."];
        if (input.Country is { } c && !Country().IsMatch(c)) errors["country"] = ["An ISO 3166 alpha-2 code like 'CH'."];
        if (input.BirthDate is { } b && (b > DateOnly.FromDateTime(now.UtcDateTime) || b.Year < 1900)) errors["birthDate"] = ["Not a plausible birth date."];
        return errors;
    }

    public static FanProfile Apply(FanProfile? current, string fanId, ProfileInput input, bool tokenIsStaff, DateTimeOffset now)
        => new(fanId, input.DisplayName?.Trim(), input.Country, input.BirthDate, tokenIsStaff || (current?.IsStaff ?? false), now);

    /// <summary>Consent must name the campaign's current rules version; each grant keeps the instant it was given.</summary>
    public static (CampaignConsent? Consent, string? Code, string? Detail) Consent(Campaign campaign, CampaignConsent? current,
        string fanId, ConsentInput input, DateTimeOffset now)
    {
        var expected = campaign.Rules?.Version;
        if (expected is null) return (null, "campaign_has_no_rules", "This campaign has no rules to accept.");
        if (input.RulesVersion != expected) return (null, "rules_version_mismatch", $"The current rules version is '{expected}'.");
        DateTimeOffset? Keep(bool granted, DateTimeOffset? before) => granted ? before ?? now : null;
        return (new CampaignConsent(fanId, campaign.Id, expected,
            current?.RulesVersion == expected ? current.RulesAcceptedAt : now,
            Keep(input.RightsGrant, current?.RightsGrantedAt),
            Keep(input.AgeConfirmed, current?.AgeConfirmedAt),
            input.MarketingOptIn, input.MarketingOptIn == current?.MarketingOptIn ? current.MarketingOptInAt : now,
            input.ShowNamePublicly, Keep(input.ShowNamePublicly, current?.ShowNamePubliclyAt)), null, null);
    }
}
