using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using Campaigns.Platform;

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

    /// <summary>Changes kept per fan and campaign; older ones are dropped (the latest state is always in the record itself).</summary>
    public const int MaxHistory = 100;

    /// <summary>
    /// Consent must name the campaign's current rules version, and its current prize-draw version when it carries one;
    /// marketing and public display are choices, recorded with the version of their text (if the campaign has one).
    /// Each grant keeps the instant it was given; every change is appended to the history.
    /// </summary>
    public static (CampaignConsent? Consent, string? Code, string? Detail) Consent(Campaign campaign, CampaignConsent? current,
        string fanId, ConsentInput input, DateTimeOffset now)
    {
        var expected = campaign.Rules?.Version;
        if (expected is null) return (null, "campaign_has_no_rules", "This campaign has no rules to accept.");
        if (input.RulesVersion != expected) return (null, "rules_version_mismatch", $"The current rules version is '{expected}'.");
        var prizeDraw = campaign.PrizeDraw?.Version;
        if (prizeDraw is not null && input.PrizeDrawVersion != prizeDraw)
            return (null, "prize_draw_version_mismatch", $"Accept the prize-draw terms: send prizeDrawVersion '{prizeDraw}'.");
        if (input.MarketingVersion is { } mv && mv != campaign.Marketing?.Version)
            return (null, "marketing_version_mismatch", $"The current marketing text version is '{campaign.Marketing?.Version ?? "(none)"}'.");
        if (input.PublicDisplayVersion is { } pv && pv != campaign.PublicDisplay?.Version)
            return (null, "public_display_version_mismatch", $"The current public-display text version is '{campaign.PublicDisplay?.Version ?? "(none)"}'.");

        var publicDisplay = input.PublicDisplay ?? input.ShowNamePublicly;
        var marketingVersion = input.MarketingOptIn ? campaign.Marketing?.Version : null;
        var displayVersion = publicDisplay ? campaign.PublicDisplay?.Version : null;
        DateTimeOffset? Keep(bool granted, DateTimeOffset? before) => granted ? before ?? now : null;

        var history = new List<ConsentEvent>(current?.History ?? []);
        void Changed(string text, string? version, bool given, bool changed) { if (changed) history.Add(new(text, version, given, now)); }
        Changed(ConsentTexts.Rules, expected, true, current?.RulesVersion != expected);
        Changed(ConsentTexts.PrizeDraw, prizeDraw, true, prizeDraw is not null && current?.PrizeDrawVersion != prizeDraw);
        Changed(ConsentTexts.Marketing, campaign.Marketing?.Version, input.MarketingOptIn,
            (current?.MarketingOptIn ?? false) != input.MarketingOptIn || input.MarketingOptIn && current?.MarketingVersion != marketingVersion);
        Changed(ConsentTexts.PublicDisplay, campaign.PublicDisplay?.Version, publicDisplay,
            (current?.ShowNamePublicly ?? false) != publicDisplay || publicDisplay && current?.PublicDisplayVersion != displayVersion);

        var marketingSame = input.MarketingOptIn == current?.MarketingOptIn && marketingVersion == current.MarketingVersion;
        var displaySame = publicDisplay == current?.ShowNamePublicly && displayVersion == current.PublicDisplayVersion;
        return (new CampaignConsent(fanId, campaign.Id, expected,
            current?.RulesVersion == expected ? current.RulesAcceptedAt : now,
            Keep(input.RightsGrant, current?.RightsGrantedAt),
            Keep(input.AgeConfirmed, current?.AgeConfirmedAt),
            input.MarketingOptIn, marketingSame ? current!.MarketingOptInAt : now,
            publicDisplay, displaySame ? current!.ShowNamePubliclyAt : publicDisplay ? now : null,
            prizeDraw,
            prizeDraw is null ? null : current?.PrizeDrawVersion == prizeDraw ? current.PrizeDrawAcceptedAt : now,
            marketingVersion, displayVersion,
            history.Count > MaxHistory ? history[^MaxHistory..].ToArray() : history.ToArray()), null, null);
    }

    /// <summary>
    /// Before any fan action (vote, submission, upload, reaction): the campaign's current rules must have been accepted.
    /// <paramref name="acceptedRules"/> is the version the fan accepted (stored consent, or named with the action).
    /// When the campaign publishes a new rules version this asks the fan again, naming the version to accept in 'errors'.
    /// </summary>
    public static ApiProblem? ConsentNeeded(Campaign campaign, string? acceptedRules)
    {
        if (campaign.Rules is not { } rules || acceptedRules == rules.Version) return null;
        return new ApiProblem(403, "consent_required", "Accept the campaign's current rules first.",
            acceptedRules is null
                ? $"Accept rules version '{rules.Version}' (PUT /api/me/campaigns/{campaign.Id}/consent) and try again."
                : $"The rules changed from version '{acceptedRules}' to '{rules.Version}': accept them (PUT /api/me/campaigns/{campaign.Id}/consent) and try again.",
            new Dictionary<string, string[]> { ["rulesVersion"] = [rules.Version] });
    }
}
