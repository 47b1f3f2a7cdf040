using System.Text.RegularExpressions;
using Campaigns.Platform;

namespace Campaigns.Moderation;

/// <summary>A refused decision: HTTP status and stable code.</summary>
public sealed record Refusal(int Status, string Code, string Detail)
{
    public ApiProblem Problem() => new(Status, Code, Status switch
    {
        400 => "The request is not valid.",
        403 => "Not allowed.",
        404 => "Not found.",
        _ => "Conflict.",
    }, Detail);
}

/// <summary>Pure moderation decisions, given <c>now</c>.</summary>
public static partial class ModerationRules
{
    public const string AutoActor = "auto";
    public const int MaxNote = 500, MaxBulk = 100, MaxFlags = 20;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")] public static partial Regex EntryIdPattern();
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$")] private static partial Regex TokenPattern();

    /// <summary>Reason codes a moderator may reject with, and the text the fan sees, per language.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> RejectReasons =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["offensive"] = Texts("Your entry contains offensive or hateful content.", "Votre participation contient des propos offensants ou haineux.", "Ihr Beitrag enthält beleidigende oder hasserfüllte Inhalte."),
            ["off_topic"] = Texts("Your entry is not about the campaign's theme.", "Votre participation ne correspond pas au thème de la campagne.", "Ihr Beitrag passt nicht zum Thema der Kampagne."),
            ["personal_data"] = Texts("Your entry shows personal data of other people.", "Votre participation montre des données personnelles d'autres personnes.", "Ihr Beitrag zeigt persönliche Daten anderer Personen."),
            ["copyright"] = Texts("Your entry uses content you do not own the rights to.", "Votre participation utilise un contenu dont vous n'avez pas les droits.", "Ihr Beitrag verwendet Inhalte, an denen Sie keine Rechte haben."),
            ["spam"] = Texts("Your entry looks like advertising or spam.", "Votre participation ressemble à de la publicité ou du spam.", "Ihr Beitrag wirkt wie Werbung oder Spam."),
            ["low_quality"] = Texts("Your entry could not be read or viewed.", "Votre participation est illisible.", "Ihr Beitrag ist nicht lesbar."),
            ["rules"] = Texts("Your entry does not meet the campaign rules.", "Votre participation ne respecte pas le règlement.", "Ihr Beitrag entspricht nicht den Teilnahmebedingungen."),
        };

    /// <summary>Reasons a fan may give when reporting an entry.</summary>
    public static readonly IReadOnlySet<string> ReportReasons = new HashSet<string> { "offensive", "spam", "copyright", "personal_data", "off_topic", "other" };

    private static IReadOnlyDictionary<string, string> Texts(string en, string fr, string de) => new Dictionary<string, string> { ["en"] = en, ["fr"] = fr, ["de"] = de };

    /// <summary>The reason's text in the entry's language (its primary subtag), English otherwise.</summary>
    public static string? ReasonText(string? code, string? locale)
    {
        if (code is null || !RejectReasons.TryGetValue(code, out var texts)) return null;
        var lang = (locale ?? "en").Split('-')[0];
        return texts.TryGetValue(lang, out var t) ? t : texts["en"];
    }

    // ---- Auto-rules ----

    /// <summary>
    /// Priority 0–100 from the safety outcome and flags (higher is reviewed first when ordering by priority);
    /// a status when a configured auto-rule decides the item alone.
    /// </summary>
    public static (ReviewStatus Status, int Priority, string? ReasonCode, string[] Flags) AutoDecide(ReviewRequest r, ModerationSettings s, bool ownerBlocked)
    {
        var flags = (r.Flags ?? []).Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f.Trim().ToLowerInvariant()).Distinct().Take(MaxFlags).ToList();
        var safety = (r.Safety ?? "").ToLowerInvariant();
        if (safety is not ("allow" or "review" or "reject")) { flags.Add("unknown-safety"); safety = "review"; }
        if (ownerBlocked) flags.Add("blocked-fan");
        var basePriority = safety switch { "reject" => 80, "review" => 50, _ => 10 };
        var priority = Math.Min(100, basePriority + 10 * flags.Count);
        var hardBlock = safety == "reject" || flags.Any(f => s.HardBlockFlags.Contains(f));
        // An automatic rejection keeps the reason the checks found (e.g. "unreadable_image"), so the fan sees it.
        if (hardBlock && s.AutoRejectHardBlocks)
            return (ReviewStatus.Rejected, priority, string.IsNullOrWhiteSpace(r.SafetyReason) ? "rules" : r.SafetyReason, flags.ToArray());
        if (!ownerBlocked && s.AutoApprove && safety == "allow" && flags.Count == 0 &&
            (s.AutoApproveKinds.Length == 0 || s.AutoApproveKinds.Contains(r.Kind)))
            return (ReviewStatus.Approved, priority, null, flags.ToArray());
        return (ReviewStatus.Pending, priority, null, flags.ToArray());
    }

    public static (ReviewItem Item, AuditRecord? Audit) NewItem(ReviewRequest r, ModerationSettings s, bool ownerBlocked, DateTimeOffset now)
    {
        var (status, priority, reason, flags) = AutoDecide(r, s, ownerBlocked);
        var open = status == ReviewStatus.Pending;
        var item = new ReviewItem(r.CampaignId, r.EntryId, r.OwnerFanId, r.Kind, r.Locale, r.SubmittedAt, now, r.Safety, r.SafetyReason,
            flags, r.Preview is { Length: > 500 } p ? p[..500] : r.Preview, priority, status, Hidden: false, Reports: 0, Version: open ? 0 : 1,
            DecidedBy: open ? null : AutoActor, DecidedAt: open ? null : now, ReasonCode: reason, Automatic: !open);
        var audit = open ? null : new AuditRecord(r.CampaignId, r.EntryId, 1, status == ReviewStatus.Approved ? "auto_approve" : "auto_reject",
            AutoActor, true, now, null, Lower(status), reason, status == ReviewStatus.Rejected ? $"safety={r.Safety}; flags={string.Join(',', flags)}" : null);
        return (item, audit);
    }

    public static string Lower(ReviewStatus s) => s.ToString().ToLowerInvariant();

    // ---- Queue ----

    public static bool IsClaimable(ReviewItem i, DateTimeOffset now) => i.IsOpen && (i.ClaimedBy is null || i.LeaseUntil is not { } until || until <= now);

    public static IEnumerable<ReviewItem> Filter(IEnumerable<ReviewItem> items, ReviewStatus status, string? kind, string? flag, string? locale)
        => items.Where(i => i.Status == status
            && (kind is null || string.Equals(i.Kind, kind, StringComparison.OrdinalIgnoreCase))
            && (flag is null || i.Flags.Contains(flag.ToLowerInvariant()))
            && (locale is null || string.Equals(i.Locale, locale, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Oldest first (the SLA clock); by priority on request, then oldest first.</summary>
    public static IEnumerable<ReviewItem> Order(IEnumerable<ReviewItem> items, bool byPriority)
        => (byPriority ? items.OrderByDescending(i => i.Priority).ThenBy(i => i.QueuedAt) : items.OrderBy(i => i.QueuedAt))
            .ThenBy(i => i.EntryId, StringComparer.Ordinal);

    public static ReviewItem Claim(ReviewItem i, string actor, string claimId, DateTimeOffset leaseUntil)
        => i with { ClaimedBy = actor, ClaimId = claimId, LeaseUntil = leaseUntil };

    public static Refusal? ValidateDecision(ReviewAction action, string? reasonCode, string? note, bool bulk)
    {
        if (note is { } n && (n.Length > MaxNote || n.Any(c => char.IsControl(c) && c is not '\n')))
            return new(400, "validation_failed", $"The note is at most {MaxNote} characters without control characters.");
        if (action == ReviewAction.Reject)
        {
            if (string.IsNullOrWhiteSpace(reasonCode)) return new(400, "reason_required", "A rejection needs a reason code.");
            if (!RejectReasons.ContainsKey(reasonCode)) return new(400, "unknown_reason", $"'{reasonCode}' is not a reason code: use {string.Join(", ", RejectReasons.Keys)}.");
        }
        else if (reasonCode is not null && !RejectReasons.ContainsKey(reasonCode))
            return new(400, "unknown_reason", $"'{reasonCode}' is not a reason code.");
        if (bulk && action == ReviewAction.Escalate) return new(400, "bulk_action_not_allowed", "Bulk decisions approve or reject; escalate items one by one.");
        return null;
    }

    public static ReviewAction? ParseAction(string? action) => action?.ToLowerInvariant() switch
    {
        "approve" => ReviewAction.Approve,
        "reject" => ReviewAction.Reject,
        "escalate" => ReviewAction.Escalate,
        _ => null,
    };

    /// <summary>
    /// A moderator's decision on an item they hold. The same decision repeated by the same moderator is accepted
    /// (Item is null: nothing to write) so a retried request re-applies the outcome without a second audit row.
    /// </summary>
    public static (ReviewItem? Item, AuditRecord? Audit, Refusal? Refused) Decide(ReviewItem i, ReviewAction action, string? reasonCode,
        string? note, string actor, bool isAdmin, DateTimeOffset now)
    {
        if (!i.IsOpen)
        {
            var same = i.DecidedBy == actor && (action, i.Status) is (ReviewAction.Approve, ReviewStatus.Approved) or (ReviewAction.Reject, ReviewStatus.Rejected);
            return same ? (null, null, null) : (null, null, new(409, "already_decided", $"The item was already {Lower(i.Status)}."));
        }
        if (i.ClaimedBy != actor) return (null, null, new(409, "item_not_held", "Claim the item before deciding it; another moderator may hold it."));
        if (i.LeaseUntil is not { } until || until <= now) return (null, null, new(409, "claim_expired", "Your claim on this item expired; claim it again."));
        if (i.Status == ReviewStatus.Escalated && !isAdmin) return (null, null, new(403, "escalated_admin_only", "Escalated items are decided by an admin."));
        if (action == ReviewAction.Escalate && i.Status == ReviewStatus.Escalated) return (null, null, new(409, "already_escalated", "The item is already escalated."));

        var next = action switch
        {
            ReviewAction.Approve => ReviewStatus.Approved,
            ReviewAction.Reject => ReviewStatus.Rejected,
            _ => ReviewStatus.Escalated,
        };
        var version = i.Version + 1;
        var decided = next != ReviewStatus.Escalated;
        var item = i with
        {
            Status = next, Version = version, ClaimedBy = null, ClaimId = null, LeaseUntil = null,
            Hidden = next == ReviewStatus.Approved ? false : i.Hidden,
            // A moderator cleared the reported entry: later reports count from zero.
            Reports = next == ReviewStatus.Approved && i.Hidden ? 0 : i.Reports,
            DecidedBy = decided ? actor : i.DecidedBy, DecidedAt = decided ? now : i.DecidedAt,
            ReasonCode = decided ? (next == ReviewStatus.Rejected ? reasonCode : null) : i.ReasonCode, Automatic = decided ? false : i.Automatic,
        };
        var audit = new AuditRecord(i.CampaignId, i.EntryId, version, action.ToString().ToLowerInvariant(), actor, false, now,
            Lower(i.Status) + (i.Hidden ? "+hidden" : ""), Lower(next), reasonCode, note);
        return (item, audit, null);
    }

    /// <summary>A fan's report counted; at the threshold an approved entry is hidden and goes back to the queue.</summary>
    public static (ReviewItem Item, AuditRecord? Audit) Report(ReviewItem i, int threshold, DateTimeOffset now)
    {
        var counted = i with { Reports = i.Reports + 1 };
        if (counted.Reports < threshold || i.Status != ReviewStatus.Approved || i.Hidden) return (counted, null);
        var version = i.Version + 1;
        var hidden = counted with
        {
            Status = ReviewStatus.Pending, Hidden = true, QueuedAt = now, Version = version,
            Flags = i.Flags.Contains("reported") ? i.Flags : [.. i.Flags, "reported"],
            Priority = Math.Max(i.Priority, 70), ClaimedBy = null, ClaimId = null, LeaseUntil = null,
        };
        return (hidden, new AuditRecord(i.CampaignId, i.EntryId, version, "hide_reported", AutoActor, true, now, Lower(i.Status),
            "pending+hidden", null, $"{counted.Reports} reports reached the threshold of {threshold}."));
    }

    public static Dictionary<string, string[]> ValidateSettings(ModerationSettingsInput s)
    {
        var errors = new Dictionary<string, string[]>();
        if (s.ReportHideThreshold is < 1 or > 1000) errors["reportHideThreshold"] = ["Between 1 and 1000."];
        if (s.AutoApproveKinds?.Any(k => !TokenPattern().IsMatch(k ?? "")) == true) errors["autoApproveKinds"] = ["Kinds are lowercase words like 'photo'."];
        if (s.HardBlockFlags?.Any(k => !TokenPattern().IsMatch(k ?? "")) == true) errors["hardBlockFlags"] = ["Flags are lowercase words like 'blocklist'."];
        return errors;
    }

    public static ModerationSettings Merge(ModerationSettings current, ModerationSettingsInput input) => new(
        input.AutoApprove ?? current.AutoApprove, input.AutoApproveKinds ?? current.AutoApproveKinds,
        input.AutoRejectHardBlocks ?? current.AutoRejectHardBlocks, input.HardBlockFlags ?? current.HardBlockFlags,
        input.ReportHideThreshold ?? current.ReportHideThreshold);

    // ---- SLA ----

    public sealed record SlaFigures(int Depth, int Pending, int Escalated, int HiddenPendingReview, double? OldestPendingAgeSeconds,
        DateTimeOffset? OldestPendingQueuedAt, double? MedianTimeToDecisionSeconds, int HumanDecisions, int AutomaticDecisions,
        double? ShareDecidedWithinTarget, double TargetHours);

    /// <summary>
    /// Depth = open items (pending + escalated). Median time to decision over human decisions (QueuedAt → DecidedAt);
    /// automatic decisions take no time and would flatter the figure, so they are counted apart.
    /// </summary>
    public static SlaFigures Sla(IReadOnlyCollection<ReviewItem> items, double targetHours, DateTimeOffset now)
    {
        var open = items.Where(i => i.IsOpen).ToList();
        var oldest = open.Count == 0 ? (DateTimeOffset?)null : open.Min(i => i.QueuedAt);
        var human = items.Where(i => !i.IsOpen && !i.Automatic && i.DecidedAt is not null)
            .Select(i => Math.Max(0, (i.DecidedAt!.Value - i.QueuedAt).TotalSeconds)).OrderBy(x => x).ToList();
        double? median = human.Count == 0 ? null : human.Count % 2 == 1 ? human[human.Count / 2] : (human[human.Count / 2 - 1] + human[human.Count / 2]) / 2;
        double? within = human.Count == 0 ? null : Math.Round(human.Count(s => s <= targetHours * 3600) / (double)human.Count, 4);
        return new(open.Count, open.Count(i => i.Status == ReviewStatus.Pending), open.Count(i => i.Status == ReviewStatus.Escalated),
            open.Count(i => i.Hidden), oldest is { } o ? (now - o).TotalSeconds : null, oldest, median, human.Count,
            items.Count(i => !i.IsOpen && i.Automatic), within, targetHours);
    }
}
