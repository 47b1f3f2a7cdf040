using Campaigns.Campaigns;
using Campaigns.Episodes;
using NodaTime;

namespace Campaigns.Tests.Episodes;

/// <summary>Recurrence expansion and the DST policy against the real tzdb zone Europe/Zurich (changes on 2027-03-28 and 2027-10-31).</summary>
public sealed class EpisodeTimeTests
{
    private static readonly DateTimeZone Zurich = DateTimeZoneProviders.Tzdb["Europe/Zurich"];

    private static List<Slot> Expand(RecurrenceInput r)
    {
        var (parsed, errors, _) = EpisodeTime.Parse(r, null);
        Assert.True(parsed is not null, string.Join("; ", errors.SelectMany(e => e.Value)));
        return EpisodeTime.Expand(parsed!, Zurich);
    }

    [Fact]
    public void Nineteen_hundred_in_Zurich_lands_on_the_right_UTC_instant_on_both_sides_of_both_DST_changes()
    {
        var spring = Expand(new RecurrenceInput("2027-03-27", ["19:00"], Count: 2));
        Assert.Equal(new DateTimeOffset(2027, 3, 27, 18, 0, 0, TimeSpan.Zero), spring[0].Utc); // CET, UTC+1
        Assert.Equal(new DateTimeOffset(2027, 3, 28, 17, 0, 0, TimeSpan.Zero), spring[1].Utc); // CEST, UTC+2
        Assert.Equal("2027-03-27T19:00:00+01:00", spring[0].Local);
        Assert.Equal("2027-03-28T19:00:00+02:00", spring[1].Local);

        var autumn = Expand(new RecurrenceInput("2027-10-30", ["19:00"], Until: "2027-10-31"));
        Assert.Equal(2, autumn.Count);
        Assert.Equal(new DateTimeOffset(2027, 10, 30, 17, 0, 0, TimeSpan.Zero), autumn[0].Utc); // CEST
        Assert.Equal(new DateTimeOffset(2027, 10, 31, 18, 0, 0, TimeSpan.Zero), autumn[1].Utc); // CET
        Assert.All(spring.Concat(autumn), s => Assert.Equal(LocalResolution.Exact, s.Resolution));
    }

    [Fact]
    public void A_skipped_local_time_is_shifted_forward_by_the_gap_and_a_repeated_one_is_published_once_at_the_first()
    {
        var skipped = Expand(new RecurrenceInput("2027-03-27", ["02:30"], Count: 3));
        Assert.Equal(3, skipped.Count);
        Assert.Equal(LocalResolution.SkippedShiftedForward, skipped[1].Resolution);
        Assert.Equal("2027-03-28T03:30:00+02:00", skipped[1].Local);
        Assert.Equal(new DateTimeOffset(2027, 3, 28, 1, 30, 0, TimeSpan.Zero), skipped[1].Utc);
        Assert.Equal(new DateTimeOffset(2027, 3, 27, 1, 30, 0, TimeSpan.Zero), skipped[0].Utc);
        Assert.Equal(new DateTimeOffset(2027, 3, 29, 0, 30, 0, TimeSpan.Zero), skipped[2].Utc);

        var repeated = Expand(new RecurrenceInput("2027-10-30", ["02:30"], Count: 3));
        Assert.Equal(3, repeated.Count); // once per day, not twice on the 31st
        Assert.Equal(LocalResolution.RepeatedEarlier, repeated[1].Resolution);
        Assert.Equal("2027-10-31T02:30:00+02:00", repeated[1].Local);
        Assert.Equal(new DateTimeOffset(2027, 10, 31, 0, 30, 0, TimeSpan.Zero), repeated[1].Utc);
        Assert.Equal(new DateTimeOffset(2027, 11, 1, 1, 30, 0, TimeSpan.Zero), repeated[2].Utc);
        Assert.Equal(repeated.Count, repeated.Select(s => s.Utc).Distinct().Count());
    }

    [Fact]
    public void Two_photographs_a_day_for_fifteen_days_on_chosen_weekdays_and_explicit_times()
    {
        var slots = Expand(new RecurrenceInput("2027-06-01", ["10:00", "16:00"], Count: 30));
        Assert.Equal(30, slots.Count);
        Assert.Equal("2027-06-15T16:00:00+02:00", slots[^1].Local);
        Assert.True(slots.Zip(slots.Skip(1)).All(p => p.First.Utc < p.Second.Utc));

        var weekdays = Expand(new RecurrenceInput("2027-06-01", ["19:00"], ["mon", "fri"], Until: "2027-06-30"));
        Assert.All(weekdays, s => Assert.Contains(s.Zoned.DayOfWeek, new[] { IsoDayOfWeek.Monday, IsoDayOfWeek.Friday }));
        Assert.Equal(8, weekdays.Count); // June 2027: Fridays 4,11,18,25; Mondays 7,14,21,28

        var (explicitTimes, _, _) = EpisodeTime.Parse(null, ["2027-10-31T02:30", "2027-11-01T19:00"]);
        var ex = EpisodeTime.Expand(explicitTimes!, Zurich);
        Assert.Equal(LocalResolution.RepeatedEarlier, ex[0].Resolution);
        Assert.Equal(new DateTimeOffset(2027, 11, 1, 18, 0, 0, TimeSpan.Zero), ex[1].Utc);
    }

    [Fact]
    public void Likely_mistakes_are_warned_about()
    {
        var (midnight, _, _) = EpisodeTime.Parse(new RecurrenceInput("2027-10-01", ["19:00"], Until: "2027-10-31T00:00"), null);
        Assert.Contains(midnight!.InputWarnings, w => w.Code == "end_at_midnight");
        Assert.Equal(30, EpisodeTime.Expand(midnight, Zurich).Count); // the 31st is not included: hence the warning
        var (wholeDay, _, _) = EpisodeTime.Parse(new RecurrenceInput("2027-10-01", ["19:00"], Until: "2027-10-31"), null);
        Assert.DoesNotContain(wholeDay!.InputWarnings, w => w.Code == "end_at_midnight");
        Assert.Equal(31, EpisodeTime.Expand(wholeDay, Zurich).Count);

        var (ampm, _, _) = EpisodeTime.Parse(new RecurrenceInput("2027-10-01", ["12 AM", "7 PM", "03:00"], Count: 3), null);
        Assert.Equal([new LocalTime(0, 0), new LocalTime(3, 0), new LocalTime(19, 0)], ampm!.Times);
        Assert.Contains(ampm.InputWarnings, w => w.Code == "ampm_confusion" && w.Message.Contains("12 AM"));
        Assert.Contains(ampm.InputWarnings, w => w.Code == "ampm_confusion" && w.Message.Contains("15:00"));

        var (backwards, _, _) = EpisodeTime.Parse(new RecurrenceInput("2027-10-10", ["19:00"], Until: "2027-10-01"), null);
        Assert.True(backwards!.EndsBeforeStart);
        Assert.Contains(backwards.InputWarnings, w => w.Code == "end_before_start");
        Assert.Empty(EpisodeTime.Expand(backwards, Zurich));

        var campaign = new Campaign("c-x", "n", "b", "Europe/Zurich", ["en"], [CampaignFeature.Episodes],
            new CampaignWindows(Publish: new TimeWindow(new DateTimeOffset(2027, 10, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 10, 15, 0, 0, 0, TimeSpan.Zero))),
            new Eligibility(), null, null, CampaignStatus.Published, default, default);
        var late = EpisodeTime.Resolve(new LocalDateTime(2027, 10, 20, 19, 0), Zurich);
        Assert.Contains(EpisodeTime.SlotWarnings(late, campaign, new DateTimeOffset(2027, 9, 1, 0, 0, 0, TimeSpan.Zero)), w => w.Code == "outside_publish_window");
        var inside = EpisodeTime.Resolve(new LocalDateTime(2027, 10, 10, 19, 0), Zurich);
        Assert.Empty(EpisodeTime.SlotWarnings(inside, campaign, new DateTimeOffset(2027, 9, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("2027-13-01", "19:00", null, "2027-12-01", 0, "invalid_recurrence")]
    [InlineData("2027-10-01", "25:00", null, null, 5, "invalid_recurrence")]
    [InlineData("2027-10-01", "19:00", "funday", null, 5, "invalid_recurrence")]
    [InlineData("2027-10-01", "19:00", null, null, null, "invalid_recurrence")] // no end
    [InlineData("2027-10-01", "19:00", null, null, 100_000, "invalid_recurrence")]
    [InlineData("2027-10-01", "19:00", null, "2031-01-01", null, "invalid_recurrence")] // more than three years
    public void Invalid_recurrences_are_refused_with_a_stable_code(string start, string time, string? weekday, string? until, int? count, string code)
    {
        var (parsed, errors, actual) = EpisodeTime.Parse(new RecurrenceInput(start, [time], weekday is null ? null : [weekday], until, count), null);
        Assert.Null(parsed);
        Assert.NotEmpty(errors);
        Assert.Equal(code, actual);
    }

    [Fact]
    public void Explicit_times_must_increase()
    {
        var (parsed, errors, code) = EpisodeTime.Parse(null, ["2027-10-02T19:00", "2027-10-01T19:00"]);
        Assert.Null(parsed);
        Assert.Equal("times_out_of_order", code);
        Assert.True(errors.ContainsKey("times[1]"));
        Assert.Equal("invalid_recurrence", EpisodeTime.Parse(new RecurrenceInput("2027-10-01", ["19:00"], Count: 1), ["2027-10-01T19:00"]).Code);
    }
}
