using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NodaTime;

namespace Campaigns.Campaigns;

/// <summary>Pure decisions about campaigns: validation and state changes, given <c>now</c>.</summary>
public static partial class CampaignRules
{
    public const int MaxName = 120, MaxBrand = 80, MaxLocales = 20, MaxText = 20_000, MaxVersion = 32;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{2,62}$")] public static partial Regex IdPattern();
    [GeneratedRegex("^[a-z]{2,3}(-[A-Z]{2})?$")] private static partial Regex LocalePattern();
    [GeneratedRegex("^[A-Z]{2}$")] private static partial Regex CountryPattern();

    public static Dictionary<string, string[]> Validate(CampaignInput input)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        if (input.WorkspaceId is not null && !Workspaces.WorkspaceRules.IdPattern().IsMatch(input.WorkspaceId))
            Add("workspaceId", "Not a workspace id.");
        if (input.Id is not null && !IdPattern().IsMatch(input.Id))
            Add("id", "Use 3–63 lowercase letters, digits and hyphens, starting with a letter or digit.");
        Text("name", input.Name, MaxName, Add);
        Text("brand", input.Brand, MaxBrand, Add);
        if (DateTimeZoneProviders.Tzdb.GetZoneOrNull(input.TimeZone ?? "") is null)
            Add("timeZone", $"'{input.TimeZone}' is not an IANA time zone (e.g. Europe/Zurich).");
        if (input.Locales is null || input.Locales.Length == 0) Add("locales", "Give at least one locale.");
        else
        {
            if (input.Locales.Length > MaxLocales) Add("locales", $"At most {MaxLocales} locales.");
            foreach (var l in input.Locales.Where(l => !LocalePattern().IsMatch(l ?? ""))) Add("locales", $"'{l}' is not a locale like 'fr' or 'de-CH'.");
            if (input.Locales.Distinct().Count() != input.Locales.Length) Add("locales", "Locales repeat.");
        }
        if (input.Features is null || input.Features.Length == 0) Add("features", "Say what the campaign runs: voting, submissions, episodes.");
        else if (input.Features.Distinct().Count() != input.Features.Length) Add("features", "Features repeat.");

        var w = input.Windows;
        if (w is not null)
        {
            Window("windows.publish", w.Publish, Add);
            Window("windows.entry", w.Entry, Add);
            Window("windows.voting", w.Voting, Add);
            foreach (var (name, inner) in new[] { ("entry", w.Entry), ("voting", w.Voting) })
            {
                if (inner is null || w.Publish is null) continue;
                if (inner.Start < w.Publish.Start || inner.End > w.Publish.End)
                    Add($"windows.{name}", $"The {name} window must lie within the publish window.");
            }
            if (w.Entry is not null && w.Voting is not null && w.Voting.Start < w.Entry.Start)
                Add("windows.voting", "Voting cannot start before entries open.");
            if (w.Reveal is { } reveal && w.Voting is not null && reveal < w.Voting.End)
                Add("windows.reveal", "The reveal must be at or after the end of voting.");
        }

        if (input.Eligibility is { } e)
        {
            if (e.MinAge is < 0 or > 120) Add("eligibility.minAge", "Use an age between 0 and 120.");
            foreach (var c in (e.Countries ?? []).Where(c => !CountryPattern().IsMatch(c ?? ""))) Add("eligibility.countries", $"'{c}' is not an ISO 3166 alpha-2 code like 'CH'.");
        }
        Versioned("rules", input.Rules, input.Locales ?? [], Add);
        Versioned("consent", input.Consent, input.Locales ?? [], Add);
        Versioned("prizeDraw", input.PrizeDraw, input.Locales ?? [], Add);
        Versioned("marketing", input.Marketing, input.Locales ?? [], Add);
        Versioned("publicDisplay", input.PublicDisplay, input.Locales ?? [], Add);
        // "consent" is the old name of the prize-draw text; both at once would leave it unclear which one fans accept.
        if (input.Consent is not null && input.PrizeDraw is not null) Add("consent", "Send the prize-draw text as prizeDraw only (consent is its old name).");

        return errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    private static void Text(string field, string? value, int max, Action<string, string> add)
    {
        if (string.IsNullOrWhiteSpace(value)) add(field, "Required.");
        else if (value.Length > max) add(field, $"At most {max} characters.");
        else if (value.Any(char.IsControl)) add(field, "Control characters are not allowed.");
    }

    private static void Window(string field, TimeWindow? window, Action<string, string> add)
    {
        if (window is not null && window.End <= window.Start) add(field, "The end must be after the start.");
    }

    private static void Versioned(string field, VersionedText? text, string[] locales, Action<string, string> add)
    {
        if (text is null) return;
        if (string.IsNullOrWhiteSpace(text.Version) || text.Version.Length > MaxVersion) add($"{field}.version", $"Required, at most {MaxVersion} characters.");
        if (text.Text is null || text.Text.Count == 0) { add($"{field}.text", "Give the text in at least one locale."); return; }
        foreach (var (locale, body) in text.Text)
        {
            if (!locales.Contains(locale)) add($"{field}.text", $"'{locale}' is not one of the campaign's locales.");
            if (string.IsNullOrWhiteSpace(body) || body.Length > MaxText) add($"{field}.text.{locale}", $"Required, at most {MaxText} characters.");
        }
    }

    public static Campaign Create(CampaignInput input, string id, string workspaceId, DateTimeOffset now) => new(
        id, input.Name.Trim(), input.Brand.Trim(), input.TimeZone, input.Locales, input.Features,
        input.Windows ?? new CampaignWindows(), input.Eligibility ?? new Eligibility(), input.Rules, null,
        CampaignStatus.Draft, now, now, WorkspaceId: workspaceId,
        PrizeDraw: input.PrizeDraw ?? input.Consent, Marketing: input.Marketing, PublicDisplay: input.PublicDisplay);

    public static Result Update(Campaign current, CampaignInput input, DateTimeOffset now)
    {
        if (current.Status == CampaignStatus.Archived) return Result.Refused("campaign_archived", "An archived campaign cannot be changed.");
        if (input.Id is not null && input.Id != current.Id) return Result.Refused("id_immutable", "A campaign's id cannot change.");
        if (input.WorkspaceId is not null && input.WorkspaceId != current.WorkspaceId)
            return Result.Refused("workspace_immutable", "A campaign belongs to its workspace for life.");
        // Fans who took part were judged against these rules; changing them afterwards would admit or exclude people
        // retroactively. Refused rather than versioned: one rule set per campaign keeps every entrant comparable.
        var eligibility = input.Eligibility ?? new Eligibility();
        if (current.HasOpened(now) && !SameEligibility(current.Eligibility, eligibility))
            return Result.Refused("eligibility_frozen", "Eligibility (minAge, countries) cannot change once entry or voting has opened.");
        return Result.Ok(current.Normalised() with
        {
            Name = input.Name.Trim(),
            Brand = input.Brand.Trim(),
            TimeZone = input.TimeZone,
            Locales = input.Locales,
            Features = input.Features,
            Windows = input.Windows ?? new CampaignWindows(),
            Eligibility = eligibility,
            Rules = input.Rules,
            Consent = null,
            PrizeDraw = input.PrizeDraw ?? input.Consent,
            Marketing = input.Marketing,
            PublicDisplay = input.PublicDisplay,
            UpdatedAt = now,
        });
    }

    private static bool SameEligibility(Eligibility a, Eligibility b)
        => a.MinAge == b.MinAge && (a.Countries ?? []).Order().SequenceEqual((b.Countries ?? []).Order());

    public static Result Publish(Campaign current, DateTimeOffset now) => current.Status switch
    {
        CampaignStatus.Archived => Result.Refused("campaign_archived", "An archived campaign cannot be published."),
        CampaignStatus.Published => Result.Ok(current),
        _ => Result.Ok(current with { Status = CampaignStatus.Published, PublishedAt = now, UpdatedAt = now }),
    };

    public static Result Archive(Campaign current, DateTimeOffset now) => current.Status == CampaignStatus.Archived
        ? Result.Ok(current)
        : Result.Ok(current with { Status = CampaignStatus.Archived, ArchivedAt = now, UpdatedAt = now });

    /// <summary>A readable id from the name plus a random suffix, when the marketer gives none.</summary>
    public static string NewId(string name, Random random)
    {
        var normalized = name.Normalize(NormalizationForm.FormD);
        var slug = new StringBuilder();
        foreach (var ch in normalized)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            var c = char.ToLowerInvariant(ch);
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
            if (slug.Length >= 40) break;
        }
        var stem = slug.ToString().Trim('-');
        const string alphabet = "abcdefghjkmnpqrstvwxyz23456789";
        var suffix = new string(Enumerable.Range(0, 6).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        return (stem.Length == 0 ? "campaign" : stem) + "-" + suffix;
    }

    /// <summary>Where the campaign stands at <c>now</c>, for microsites.</summary>
    public static string Phase(Campaign c, DateTimeOffset now)
    {
        var w = c.Windows;
        if (c.Status == CampaignStatus.Archived) return "archived";
        if (w.Publish is not null && now < w.Publish.Start) return "upcoming";
        if (w.Entry?.Contains(now) == true && w.Voting?.Contains(now) == true) return "entry-and-voting-open";
        if (w.Entry?.Contains(now) == true) return "entry-open";
        if (w.Voting?.Contains(now) == true) return "voting-open";
        if (w.Reveal is { } r && now >= r) return "revealed";
        if (w.Voting is not null && now >= w.Voting.End) return "voting-closed";
        if (w.Entry is not null && now < w.Entry.Start || w.Voting is not null && now < w.Voting.Start) return "upcoming";
        if (w.Publish is not null && now >= w.Publish.End) return "ended";
        return "live";
    }
}

public sealed record Result(Campaign? Value, string? Code, string? Detail)
{
    public static Result Ok(Campaign c) => new(c, null, null);
    public static Result Refused(string code, string detail) => new(null, code, detail);
}
