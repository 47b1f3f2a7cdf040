using NodaTime;

namespace Campaigns.Campaigns;

public enum CampaignStatus { Draft, Published, Archived }

public enum CampaignFeature { Voting, Submissions, Episodes }

/// <summary>A half-open window [Start, End) of UTC instants.</summary>
public sealed record TimeWindow(DateTimeOffset Start, DateTimeOffset End)
{
    public bool Contains(DateTimeOffset now) => now >= Start && now < End;
}

public sealed record CampaignWindows(TimeWindow? Publish = null, TimeWindow? Entry = null, TimeWindow? Voting = null, DateTimeOffset? Reveal = null);

public sealed record Eligibility(int? MinAge = null, string[]? Countries = null);

/// <summary>Rules or consent text with the version a fan accepts; text per locale.</summary>
public sealed record VersionedText(string Version, Dictionary<string, string> Text);

/// <summary>
/// The consent texts a campaign carries, each versioned on its own (docs/fans.md): the rules (required to take part),
/// the prize draw (required when the campaign carries one), marketing opt-in and public display of the fan's name,
/// label texts and photos (both optional choices). <c>consent</c>, the one text campaigns had before, is read as the
/// prize-draw text (docs/decisions/0002-versioned-consent.md).
/// </summary>
public static class ConsentTexts
{
    public const string Rules = "rules", PrizeDraw = "prizeDraw", Marketing = "marketing", PublicDisplay = "publicDisplay";
}

/// <summary>What a marketer sends to create or update a campaign.</summary>
public sealed record CampaignInput(
    string Name,
    string Brand,
    string TimeZone,
    string[] Locales,
    CampaignFeature[] Features,
    string? Id = null,
    CampaignWindows? Windows = null,
    Eligibility? Eligibility = null,
    VersionedText? Rules = null,
    VersionedText? Consent = null,
    string? WorkspaceId = null,
    VersionedText? PrizeDraw = null,
    VersionedText? Marketing = null,
    VersionedText? PublicDisplay = null);

public sealed record Campaign(
    string Id,
    string Name,
    string Brand,
    string TimeZone,
    string[] Locales,
    CampaignFeature[] Features,
    CampaignWindows Windows,
    Eligibility Eligibility,
    VersionedText? Rules,
    VersionedText? Consent,
    CampaignStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? PublishedAt = null,
    DateTimeOffset? ArchivedAt = null,
    string? WorkspaceId = null,
    VersionedText? PrizeDraw = null,
    VersionedText? Marketing = null,
    VersionedText? PublicDisplay = null)
{
    /// <summary>
    /// The shape every reader sees: a campaign stored with the single legacy <c>consent</c> text has it as its prize-draw
    /// text (that is what campaigns used it for, and no fan ever accepted it), and <see cref="Consent"/> stays empty.
    /// </summary>
    public Campaign Normalised() => Consent is null ? this : this with { PrizeDraw = PrizeDraw ?? Consent, Consent = null };

    public bool Runs(CampaignFeature feature) => Features.Contains(feature);

    public DateTimeZone Zone => DateTimeZoneProviders.Tzdb[TimeZone];

    /// <summary>The instant as the campaign's audience reads it, e.g. 2026-12-01T19:00:00+01:00.</summary>
    public string Local(DateTimeOffset instant)
        => Instant.FromDateTimeOffset(instant).InZone(Zone).ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Fans rely on the rules from the moment they can take part: a published campaign whose entry or voting window
    /// has started (or that has neither window, so it takes part as soon as it is published).
    /// </summary>
    public bool HasOpened(DateTimeOffset now)
    {
        if (Status != CampaignStatus.Published) return false;
        var starts = new[] { Windows.Entry?.Start, Windows.Voting?.Start }.OfType<DateTimeOffset>().ToList();
        return starts.Count == 0 || now >= starts.Min();
    }

    public bool IsVisibleToPublic(DateTimeOffset now)
        => Status == CampaignStatus.Published && (Windows.Publish is null || now >= Windows.Publish.Start);
}
