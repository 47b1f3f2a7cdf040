using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using Campaigns.Platform;

namespace Campaigns.Episodes;

/// <summary>A decision: the changed episodes, or a refusal with a stable problem.</summary>
public sealed record Decision(IReadOnlyList<Episode> Changed, ApiProblem? Problem = null)
{
    public static Decision Refuse(ApiProblem p) => new([], p);
}

/// <summary>Pure decisions about series and episodes, given <c>now</c>.</summary>
public static partial class EpisodeRules
{
    public const int MaxTitle = 200, MaxBody = 8_000, MaxQuote = 1_000, MaxCredit = 200, MaxMedia = 10, MaxRef = 1_000, MaxName = 120, MaxContentChars = 30_000;
    /// <summary>Every change to a series is one table transaction (≤ 100 entities), so a series holds at most this many episodes.</summary>
    public const int MaxEpisodesPerSeries = 96;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{2,62}$")] public static partial Regex IdPattern();
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,999}$")] private static partial Regex BlobPath();

    public static ApiProblem? ValidateContent(Dictionary<string, EpisodeContent>? content, Campaign campaign)
    {
        var errors = new Dictionary<string, List<string>>();
        var tooLarge = false;
        void Add(string f, string m, bool size = false) { if (!errors.TryGetValue(f, out var l)) errors[f] = l = []; l.Add(m); tooLarge |= size; }
        if (content is null || content.Count == 0) Add("content", "Give the content in at least one of the campaign's locales.");
        foreach (var (locale, c) in content ?? [])
        {
            var p = $"content.{locale}";
            if (!campaign.Locales.Contains(locale)) Add("content", $"'{locale}' is not one of the campaign's locales ({string.Join(", ", campaign.Locales)}).");
            if (c is null) { Add(p, "Required."); continue; }
            Text($"{p}.title", c.Title, MaxTitle, true, Add);
            Text($"{p}.body", c.Body, MaxBody, false, Add);
            Text($"{p}.quote", c.Quote, MaxQuote, false, Add);
            Text($"{p}.quoteCredit", c.QuoteCredit, MaxCredit, false, Add);
            if (c.QuoteCredit is not null && c.Quote is null) Add($"{p}.quoteCredit", "A credit needs a quote.");
            Media($"{p}.images", c.Images, Add);
            Media($"{p}.videos", c.Videos, Add);
        }
        // The document is one table property (≤ 64 KiB, UTF-16): cap the whole content, not only each field.
        if (errors.Count == 0 && content is not null && System.Text.Json.JsonSerializer.Serialize(content, JsonDefaults.Options).Length > MaxContentChars)
            Add("content", $"All locales together are at most {MaxContentChars} characters.", true);
        if (errors.Count == 0) return null;
        var frozen = errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        return tooLarge
            ? new ApiProblem(400, "content_too_large", "Some content is too large.", "See 'errors' for the limits.", frozen)
            : ApiProblem.Validation(frozen);
    }

    private static void Text(string field, string? value, int max, bool required, Action<string, string, bool> add)
    {
        if (value is null) { if (required) add(field, "Required.", false); return; }
        if (required && string.IsNullOrWhiteSpace(value)) add(field, "Required.", false);
        else if (value.Length > max) add(field, $"At most {max} characters.", true);
        else if (value.Any(ch => char.IsControl(ch) && ch is not '\n' and not '\r' and not '\t')) add(field, "Control characters are not allowed.", false);
    }

    private static void Media(string field, string[]? refs, Action<string, string, bool> add)
    {
        if (refs is null) return;
        if (refs.Length > MaxMedia) add(field, $"At most {MaxMedia} references.", true);
        foreach (var r in refs)
        {
            if (r is null) { add(field, "A reference is null.", false); continue; }
            if (r.Length > MaxRef) { add(field, $"A reference is at most {MaxRef} characters.", true); continue; }
            var ok = Uri.TryCreate(r, UriKind.Absolute, out var u) ? u.Scheme == Uri.UriSchemeHttps : BlobPath().IsMatch(r) && !r.Contains("..");
            if (!ok) add(field, $"'{r}' is neither an https URL nor a blob path.", false);
        }
    }

    /// <summary>Slots the series' unpinned, live episodes may still move into: in the future, after every published one.</summary>
    private static List<DateTimeOffset> Live(IEnumerable<Episode> episodes)
        => episodes.Where(e => !e.Pinned && e.State != EpisodeState.Cancelled).Select(e => e.DueAt).ToList();

    /// <summary>Adds an episode: pinned to a local time, inserted at a position (later ones shift one slot), or appended.</summary>
    public static Decision Add(Campaign campaign, IReadOnlyList<Episode> existing, IReadOnlyList<Slot> slots, EpisodeInput input,
        string newId, string seriesId, DateTimeOffset now)
    {
        if (existing.Count(e => e.State != EpisodeState.Cancelled) >= MaxEpisodesPerSeries)
            return Decision.Refuse(ApiProblem.Conflict("series_full", $"A series holds at most {MaxEpisodesPerSeries} episodes."));
        var fresh = new Episode(newId, campaign.Id, seriesId, EpisodeState.Draft, default, input.Content, now, now);

        if (input.At is not null)
        {
            if (input.Position is not null) return Decision.Refuse(ApiProblem.Validation("position", "Give a position or a time ('at'), not both."));
            var at = Pin(input.At, campaign, now);
            if (at.Problem is not null) return Decision.Refuse(at.Problem);
            return new Decision([fresh with { DueAt = at.Utc, Pinned = true }]);
        }

        var ordered = existing.Where(e => !e.Pinned && e.State != EpisodeState.Cancelled).OrderBy(e => e.DueAt).ToList();
        var taken = Live(existing).ToHashSet();
        var last = ordered.Count == 0 ? DateTimeOffset.MinValue : ordered[^1].DueAt;
        var nextFree = slots.Select(s => s.Utc).Where(t => t > now && t > last && !taken.Contains(t)).Cast<DateTimeOffset?>().FirstOrDefault();

        if (input.Position is not { } position || position >= ordered.Count)
        {
            if (input.Position is < 0) return Decision.Refuse(ApiProblem.Validation("position", "Use a position ≥ 0."));
            if (nextFree is null) return Decision.Refuse(ApiProblem.Conflict("no_free_slot", "The series has no free publication slot left; extend it or pin the episode to a time."));
            return new Decision([fresh with { DueAt = nextFree.Value }]);
        }
        if (position < 0) return Decision.Refuse(ApiProblem.Validation("position", "Use a position ≥ 0."));
        var tail = ordered.Skip(position).ToList();
        if (tail.Any(e => !e.Editable || e.DueAt <= now))
            return Decision.Refuse(ApiProblem.Conflict("position_not_editable", "Episodes from that position on are already published or due; insert later."));
        if (nextFree is null) return Decision.Refuse(ApiProblem.Conflict("no_free_slot", "Inserting needs one more free slot at the end of the series."));
        var times = tail.Select(e => e.DueAt).Append(nextFree.Value).ToList();
        var changed = new List<Episode> { fresh with { DueAt = times[0] } };
        for (var i = 0; i < tail.Count; i++) changed.Add(tail[i] with { DueAt = times[i + 1], UpdatedAt = now });
        return new Decision(changed);
    }

    /// <summary>Reorders the series' movable episodes: the same slots, filled in the given order.</summary>
    public static Decision Reorder(IReadOnlyList<Episode> existing, string[] ids, DateTimeOffset now)
    {
        var movable = existing.Where(e => !e.Pinned && e.Editable && e.DueAt > now).ToList();
        if (ids is null || ids.Length != movable.Count || ids.Distinct().Count() != ids.Length || !ids.All(id => movable.Any(m => m.Id == id)))
        {
            if (ids is not null && ids.Any(id => existing.Any(e => e.Id == id && e.State == EpisodeState.Published)))
                return Decision.Refuse(ApiProblem.Conflict("episode_published", "A published episode cannot be moved."));
            return Decision.Refuse(ApiProblem.Validation("episodeIds",
                "List every episode of the series that is not yet published, due or pinned, each once, in the new order.", "invalid_order"));
        }
        var times = movable.Select(e => e.DueAt).OrderBy(t => t).ToList();
        var changed = new List<Episode>();
        for (var i = 0; i < ids.Length; i++)
        {
            var e = movable.Single(m => m.Id == ids[i]);
            if (e.DueAt != times[i]) changed.Add(e with { DueAt = times[i], UpdatedAt = now });
        }
        return new Decision(changed);
    }

    public static Decision Edit(Episode e, EpisodeEdit edit, Campaign campaign, DateTimeOffset now)
    {
        if (Locked(e) is { } p) return Decision.Refuse(p);
        if (e.State == EpisodeState.Scheduled && e.DueAt <= now)
            return Decision.Refuse(ApiProblem.Conflict("episode_due", "The episode is due and being published."));
        var updated = e with { Content = edit.Content, UpdatedAt = now };
        if (edit.At is not null)
        {
            var at = Pin(edit.At, campaign, now);
            if (at.Problem is not null) return Decision.Refuse(at.Problem);
            updated = updated with { DueAt = at.Utc, Pinned = true };
        }
        return new Decision([updated]);
    }

    public static Decision Schedule(Episode e, DateTimeOffset now)
    {
        if (Locked(e) is { } p) return Decision.Refuse(p);
        if (e.DueAt <= now) return Decision.Refuse(ApiProblem.Conflict("slot_in_past", "The episode's time is already past; move it (pin a time or reorder) first."));
        return new Decision([e with { State = EpisodeState.Scheduled, UpdatedAt = now }]);
    }

    public static Decision Unschedule(Episode e, DateTimeOffset now)
    {
        if (Locked(e) is { } p) return Decision.Refuse(p);
        if (e.DueAt <= now) return Decision.Refuse(ApiProblem.Conflict("episode_due", "The episode is due and being published."));
        return new Decision([e with { State = EpisodeState.Draft, UpdatedAt = now }]);
    }

    public static Decision Cancel(Episode e, string reason, DateTimeOffset now)
    {
        if (e.State == EpisodeState.Cancelled) return new Decision([]);
        if (Locked(e) is { } p) return Decision.Refuse(p);
        return new Decision([e with { State = EpisodeState.Cancelled, CancelReason = reason, UpdatedAt = now }]);
    }

    private static ApiProblem? Locked(Episode e) => e.State switch
    {
        EpisodeState.Published => ApiProblem.Conflict("episode_published", "A published episode cannot be changed."),
        EpisodeState.Cancelled => ApiProblem.Conflict("episode_cancelled", "A cancelled episode cannot be changed."),
        _ => null,
    };

    private static (DateTimeOffset Utc, ApiProblem? Problem) Pin(string at, Campaign campaign, DateTimeOffset now)
    {
        if (EpisodeTime.ParseLocalDateTime(at) is not { } local)
            return (default, ApiProblem.Validation("at", $"'{at}' is not a local date-time like 2026-10-01T19:00.", "invalid_time"));
        var slot = EpisodeTime.Resolve(local, campaign.Zone);
        if (slot.Utc <= now) return (default, ApiProblem.Validation("at", $"{slot.Local} is already past.", "times_out_of_order"));
        return (slot.Utc, null);
    }

    /// <summary>What the scheduler does with a due episode: publish (on time or late) or skip it, per the campaign's policy.</summary>
    public static (Episode Updated, bool Skipped) Publish(Episode e, EpisodeSettings settings, DateTimeOffset now)
    {
        var late = now - e.DueAt > TimeSpan.FromMinutes(settings.LateAfterMinutes);
        if (late && settings.CatchUp == CatchUpPolicy.Skip)
            return (e with { State = EpisodeState.Cancelled, CancelReason = "missed", UpdatedAt = now }, true);
        return (e with { State = EpisodeState.Published, PublishedAt = now, Late = late, UpdatedAt = now }, false);
    }

    public static ApiProblem? ValidateSettings(SettingsInput s, bool allowHttpLoopback)
    {
        if (s.LateAfterMinutes is < 0 or > 1440) return ApiProblem.Validation("lateAfterMinutes", "Use 0 to 1440 minutes.");
        if (s.WebhookUrl is { } url)
        {
            // Checked again on the resolved address at every delivery (WebhookHttp): a name can change where it points.
            if (WebhookAddress.CheckUrl(url, allowHttpLoopback) is { } problem)
                return ApiProblem.Validation("webhookUrl", problem, "invalid_webhook_url");
        }
        return null;
    }
}
