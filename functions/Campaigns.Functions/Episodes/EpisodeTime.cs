using System.Globalization;
using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;

namespace Campaigns.Episodes;

/// <summary>
/// A recurrence in the campaign's zone: times of day on chosen weekdays from a start date, until a local
/// date (whole day) or date-time (inclusive), or for a count of publications; whichever comes first.
/// </summary>
public sealed record RecurrenceInput(string StartDate, string[] Times, string[]? Weekdays = null, string? Until = null, int? Count = null);

/// <summary>How a local time became an instant (see docs/episodes.md, "Daylight saving time").</summary>
public enum LocalResolution { Exact, SkippedShiftedForward, RepeatedEarlier }

public sealed record Slot(LocalDateTime Requested, ZonedDateTime Zoned, LocalResolution Resolution)
{
    public DateTimeOffset Utc => Zoned.ToDateTimeOffset().ToUniversalTime();
    public string Local => Zoned.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}

public sealed record TimeWarning(string Code, string Message, string? At = null);

/// <summary>A parsed rule, or why it is not valid (<c>Code</c> is the problem code).</summary>
public sealed record ParsedSchedule(
    LocalDate? Start, LocalTime[] Times, IsoDayOfWeek[] Weekdays, LocalDateTime? Until, int? Count,
    LocalDateTime[]? Explicit, List<TimeWarning> InputWarnings)
{
    public bool EndsBeforeStart => Start is { } s && Until is { } u && u < s.AtMidnight();
}

/// <summary>
/// Pure time decisions for episodes, through NodaTime. Policy: a local time skipped by a spring-forward change
/// is shifted forward by the length of the gap (02:30 → 03:30 the same day); a local time repeated by a
/// fall-back change is published once, at its earlier occurrence (the one in summer time).
/// </summary>
public static partial class EpisodeTime
{
    public const int MaxSlots = 500;
    private static readonly TimeSpan MaxSpan = TimeSpan.FromDays(3 * 366);

    [GeneratedRegex(@"^\s*(\d{1,2})(?::(\d{2}))?\s*([AaPp][Mm])\s*$")] private static partial Regex AmPm();

    private static readonly LocalDatePattern DatePattern = LocalDatePattern.Iso;
    private static readonly LocalDateTimePattern MinutePattern = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm");
    private static readonly LocalDateTimePattern SecondPattern = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss");
    private static readonly LocalTimePattern TimePattern = LocalTimePattern.CreateWithInvariantCulture("HH':'mm");

    public static DateTimeZone? Zone(string? id) => id is null ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(id);

    /// <summary>The one place local times become instants: the documented DST policy.</summary>
    public static Slot Resolve(LocalDateTime local, DateTimeZone zone)
    {
        var mapping = zone.MapLocal(local);
        return mapping.Count switch
        {
            1 => new Slot(local, mapping.Single(), LocalResolution.Exact),
            0 => new Slot(local, Resolvers.ReturnForwardShifted(local, zone, mapping.EarlyInterval, mapping.LateInterval), LocalResolution.SkippedShiftedForward),
            _ => new Slot(local, mapping.First(), LocalResolution.RepeatedEarlier),
        };
    }

    public static string FormatLocal(LocalDateTime local) => MinutePattern.Format(local);

    public static LocalDateTime? ParseLocalDateTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var r = MinutePattern.Parse(text.Trim());
        if (r.Success) return r.Value;
        var s = SecondPattern.Parse(text.Trim());
        return s.Success ? s.Value : null;
    }

    /// <summary>"19:00", or "7 PM" / "7:30 pm" / "12 AM" (the 12-hour forms add a warning saying how they were read).</summary>
    public static LocalTime? ParseTime(string? text, List<TimeWarning> warnings)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var r = TimePattern.Parse(text.Trim());
        if (r.Success) return r.Value;
        var m = AmPm().Match(text);
        if (!m.Success) return null;
        var hour = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var minute = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
        if (hour is < 1 or > 12 || minute > 59) return null;
        var pm = m.Groups[3].Value.Equals("pm", StringComparison.OrdinalIgnoreCase);
        var h24 = hour % 12 + (pm ? 12 : 0);
        var t = new LocalTime(h24, minute);
        if (hour == 12)
            warnings.Add(new TimeWarning("ampm_confusion",
                $"'{text.Trim()}' is read as {TimePattern.Format(t)} ({(pm ? "noon" : "midnight, at the start of the day")}). Use 24-hour times to be sure."));
        return t;
    }

    private static readonly Dictionary<string, IsoDayOfWeek> Days = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mon"] = IsoDayOfWeek.Monday, ["tue"] = IsoDayOfWeek.Tuesday, ["wed"] = IsoDayOfWeek.Wednesday, ["thu"] = IsoDayOfWeek.Thursday,
        ["fri"] = IsoDayOfWeek.Friday, ["sat"] = IsoDayOfWeek.Saturday, ["sun"] = IsoDayOfWeek.Sunday,
        ["monday"] = IsoDayOfWeek.Monday, ["tuesday"] = IsoDayOfWeek.Tuesday, ["wednesday"] = IsoDayOfWeek.Wednesday,
        ["thursday"] = IsoDayOfWeek.Thursday, ["friday"] = IsoDayOfWeek.Friday, ["saturday"] = IsoDayOfWeek.Saturday, ["sunday"] = IsoDayOfWeek.Sunday,
    };

    /// <summary>Parses a recurrence or a list of explicit local times; errors are keyed by field.</summary>
    public static (ParsedSchedule? Schedule, Dictionary<string, string[]> Errors, string Code) Parse(RecurrenceInput? recurrence, string[]? times)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string f, string m) { if (!errors.TryGetValue(f, out var l)) errors[f] = l = []; l.Add(m); }
        var warnings = new List<TimeWarning>();
        var outOfOrder = false;

        if ((recurrence is null) == (times is null))
        {
            Add("recurrence", "Give either a recurrence or a list of explicit times, not both.");
            return (null, Freeze(errors), "invalid_recurrence");
        }

        if (times is not null)
        {
            if (times.Length == 0) Add("times", "Give at least one time.");
            if (times.Length > MaxSlots) Add("times", $"At most {MaxSlots} times.");
            var parsed = new List<LocalDateTime>();
            for (var i = 0; i < times.Length; i++)
            {
                if (ParseLocalDateTime(times[i]) is { } t) parsed.Add(t);
                else Add($"times[{i}]", $"'{times[i]}' is not a local date-time like 2026-10-01T19:00.");
            }
            if (errors.Count == 0)
                for (var i = 1; i < parsed.Count; i++)
                    if (parsed[i] <= parsed[i - 1]) { outOfOrder = true; Add($"times[{i}]", "Times must be in increasing order without repeats."); }
            if (errors.Count > 0) return (null, Freeze(errors), outOfOrder ? "times_out_of_order" : "invalid_recurrence");
            return (new ParsedSchedule(null, [], [], null, null, parsed.ToArray(), warnings), [], "");
        }

        var r = recurrence!;
        LocalDate? start = null;
        var d = DatePattern.Parse(r.StartDate ?? "");
        if (d.Success) start = d.Value; else Add("recurrence.startDate", $"'{r.StartDate}' is not a date like 2026-10-01.");
        var timesOfDay = new List<LocalTime>();
        if (r.Times is null || r.Times.Length == 0) Add("recurrence.times", "Give at least one time of day, e.g. 19:00.");
        else if (r.Times.Length > 24) Add("recurrence.times", "At most 24 times a day.");
        else
            for (var i = 0; i < r.Times.Length; i++)
            {
                if (ParseTime(r.Times[i], warnings) is { } t) timesOfDay.Add(t);
                else Add($"recurrence.times[{i}]", $"'{r.Times[i]}' is not a time of day like 19:00 or 7 PM.");
            }
        if (timesOfDay.Distinct().Count() != timesOfDay.Count) Add("recurrence.times", "Times repeat.");
        var weekdays = new List<IsoDayOfWeek>();
        foreach (var w in r.Weekdays ?? [])
        {
            if (Days.TryGetValue(w ?? "", out var day)) weekdays.Add(day);
            else Add("recurrence.weekdays", $"'{w}' is not a weekday (mon … sun).");
        }
        if (r.Weekdays is { Length: 0 }) Add("recurrence.weekdays", "Give at least one weekday, or leave weekdays out for every day.");
        LocalDateTime? until = null;
        if (r.Until is { } u)
        {
            var ud = DatePattern.Parse(u);
            if (ud.Success) until = ud.Value.PlusDays(1).AtMidnight().PlusTicks(-1); // a date means the whole day
            else if (ParseLocalDateTime(u) is { } udt) until = udt;
            else Add("recurrence.until", $"'{u}' is not a date (2026-10-31) or local date-time (2026-10-31T23:59).");
        }
        if (r.Count is { } c && (c < 1 || c > MaxSlots)) Add("recurrence.count", $"Use a count between 1 and {MaxSlots}.");
        if (r.Until is null && r.Count is null) Add("recurrence", "Give an end: 'until' (a date or date-time) or 'count'.");
        if (start is { } s && until is { } e && e > s.AtMidnight() + Period.FromDays((int)MaxSpan.TotalDays))
            Add("recurrence.until", "A series may span at most three years.");
        if (errors.Count > 0) return (null, Freeze(errors), "invalid_recurrence");

        foreach (var t in timesOfDay.Where(t => t.Hour is >= 0 and < 6).Distinct())
            warnings.Add(new TimeWarning("ampm_confusion",
                $"{TimePattern.Format(t)} is at night ({(t.Hour == 0 ? "12" : t.Hour.ToString(CultureInfo.InvariantCulture))}:{t.Minute:00} AM). " +
                $"If you meant the afternoon or evening, use {TimePattern.Format(t.PlusHours(12))}."));
        if (r.Until is { } raw && ParseLocalDateTime(raw) is { } untilTime && untilTime.TimeOfDay == LocalTime.Midnight)
            warnings.Add(new TimeWarning("end_at_midnight",
                $"The series ends at 00:00 on {DatePattern.Format(untilTime.Date)}, so nothing is published that day. " +
                $"Did you mean {DatePattern.Format(untilTime.Date)}T23:59 (or {DatePattern.Format(untilTime.Date.PlusDays(-1))}T23:59)?"));

        var schedule = new ParsedSchedule(start, timesOfDay.OrderBy(t => t).ToArray(),
            weekdays.Count == 0 ? Enum.GetValues<IsoDayOfWeek>().Where(x => x != IsoDayOfWeek.None).ToArray() : weekdays.Distinct().ToArray(),
            until, r.Count, null, warnings);
        if (schedule.EndsBeforeStart)
            schedule.InputWarnings.Add(new TimeWarning("end_before_start", $"The end ({r.Until}) is before the start ({r.StartDate}): nothing would be published."));
        return (schedule, [], "");
    }

    /// <summary>Every publication slot of the rule, in order (at most <see cref="MaxSlots"/>).</summary>
    public static List<Slot> Expand(ParsedSchedule s, DateTimeZone zone)
    {
        var slots = new List<Slot>();
        if (s.Explicit is { } list)
        {
            foreach (var t in list.Take(MaxSlots)) slots.Add(Resolve(t, zone));
            return slots;
        }
        if (s.EndsBeforeStart || s.Start is not { } start) return slots;
        var lastDay = s.Until?.Date ?? start.PlusDays((int)MaxSpan.TotalDays);
        for (var day = start; day <= lastDay && slots.Count < MaxSlots; day = day.PlusDays(1))
        {
            if (!s.Weekdays.Contains(day.DayOfWeek)) continue;
            foreach (var t in s.Times)
            {
                var local = day + t;
                if (s.Until is { } u && local > u) return slots;
                slots.Add(Resolve(local, zone));
                if (s.Count is { } c && slots.Count >= c) return slots;
                if (slots.Count >= MaxSlots) return slots;
            }
        }
        return slots;
    }

    /// <summary>Warnings about individual publications: DST adjustments, past instants, outside the campaign's publish window.</summary>
    public static List<TimeWarning> SlotWarnings(Slot slot, Campaign campaign, DateTimeOffset now)
    {
        var w = new List<TimeWarning>();
        var requested = FormatLocal(slot.Requested);
        if (slot.Resolution == LocalResolution.SkippedShiftedForward)
            w.Add(new TimeWarning("skipped_local_time", $"{requested} does not exist in {campaign.TimeZone} (clocks go forward); it is published at {slot.Local}.", slot.Local));
        if (slot.Resolution == LocalResolution.RepeatedEarlier)
            w.Add(new TimeWarning("repeated_local_time", $"{requested} happens twice in {campaign.TimeZone} (clocks go back); it is published once, at the first: {slot.Local}.", slot.Local));
        if (slot.Utc <= now) w.Add(new TimeWarning("in_the_past", $"{slot.Local} is already past.", slot.Local));
        if (campaign.Windows.Publish is { } p && !p.Contains(slot.Utc))
            w.Add(new TimeWarning("outside_publish_window", $"{slot.Local} is outside the campaign's publish window ({campaign.Local(p.Start)} – {campaign.Local(p.End)}).", slot.Local));
        return w;
    }

    public static string LocalText(DateTimeOffset instant, DateTimeZone zone)
        => Instant.FromDateTimeOffset(instant).InZone(zone).ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public static LocalDate LocalDay(DateTimeOffset instant, DateTimeZone zone) => Instant.FromDateTimeOffset(instant).InZone(zone).Date;

    private static Dictionary<string, string[]> Freeze(Dictionary<string, List<string>> e) => e.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
}
