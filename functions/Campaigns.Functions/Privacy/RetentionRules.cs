using Campaigns.Campaigns;

namespace Campaigns.Privacy;

/// <summary>Pure decisions about retention, given <c>now</c>: which data has outlived its period.</summary>
public static class RetentionRules
{
    /// <summary>Refusals accepted before this instant lose their IP key.</summary>
    public static DateTimeOffset RefusalIpCutoff(DateTimeOffset now, PrivacyOptions o) => now.AddDays(-o.RefusalIpDays);

    /// <summary>
    /// When a campaign ends for retention: the end of its publish window (fans stop taking part and seeing it); without
    /// one, the latest of its entry and voting ends and its reveal; without any, when it was archived. Null: it has not
    /// ended (a campaign without windows runs until it is archived).
    /// </summary>
    public static DateTimeOffset? EndOf(Campaign c)
    {
        if (c.Windows.Publish is { } publish) return publish.End;
        var ends = new[] { c.Windows.Entry?.End, c.Windows.Voting?.End, c.Windows.Reveal }.OfType<DateTimeOffset>().ToList();
        if (ends.Count > 0) return ends.Max();
        return c.ArchivedAt;
    }

    /// <summary>
    /// Campaigns whose fans' data is due for erasure at <paramref name="now"/>: ended at least
    /// <see cref="PrivacyOptions.FanDataDaysAfterEnd"/> days ago. Drafts never had fans and are left alone.
    /// </summary>
    public static IEnumerable<Campaign> PastFanDataRetention(IEnumerable<Campaign> campaigns, DateTimeOffset now, PrivacyOptions o)
        => campaigns.Where(c => c.PublishedAt is not null && EndOf(c) is { } end && now >= end.AddDays(o.FanDataDaysAfterEnd));
}
