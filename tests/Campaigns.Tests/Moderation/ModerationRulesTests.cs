using Campaigns.Moderation;
using Campaigns.Platform;

namespace Campaigns.Tests.Moderation;

public sealed class ModerationRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly ModerationSettings Defaults = new(false, [], true, ["blocklist"], 3);

    private static ReviewRequest Req(string safety, params string[] flags)
        => new("c-test", "e1", "fan-1", "photo", "fr-CH", T0, safety, null, flags, "preview");

    [Fact]
    public void Safety_and_flags_set_priority_and_hard_blocks_are_rejected_automatically()
    {
        Assert.Equal((ReviewStatus.Pending, 10), Pick(ModerationRules.AutoDecide(Req("allow"), Defaults, false)));
        Assert.Equal((ReviewStatus.Pending, 60), Pick(ModerationRules.AutoDecide(Req("review", "brand-term"), Defaults, false)));
        // A hard-block flag rejects even when the text check allowed it.
        var (status, priority, reason, flags) = ModerationRules.AutoDecide(Req("allow", "BlockList"), Defaults, false);
        Assert.Equal((ReviewStatus.Rejected, 20, "rules"), (status, priority, reason));
        Assert.Equal(["blocklist"], flags);
        Assert.Equal(ReviewStatus.Rejected, ModerationRules.AutoDecide(Req("reject"), Defaults, false).Status);
        // With auto-reject off a hard block waits at high priority.
        Assert.Equal((ReviewStatus.Pending, 80), Pick(ModerationRules.AutoDecide(Req("reject"), Defaults with { AutoRejectHardBlocks = false }, false)));
        // Unknown safety outcomes are reviewed, never approved.
        var odd = ModerationRules.AutoDecide(Req("maybe"), Defaults with { AutoApprove = true }, false);
        Assert.Equal(ReviewStatus.Pending, odd.Status);
        Assert.Contains("unknown-safety", odd.Flags);
    }

    private static (ReviewStatus, int) Pick((ReviewStatus S, int P, string? R, string[] F) x) => (x.S, x.P);

    [Fact]
    public void Auto_approve_takes_only_clean_items_of_the_configured_kinds_and_never_from_a_blocked_fan()
    {
        var on = Defaults with { AutoApprove = true, AutoApproveKinds = ["text"] };
        Assert.Equal(ReviewStatus.Pending, ModerationRules.AutoDecide(Req("allow"), on, false).Status); // photo is not listed
        Assert.Equal(ReviewStatus.Approved, ModerationRules.AutoDecide(Req("allow") with { Kind = "text" }, on, false).Status);
        Assert.Equal(ReviewStatus.Pending, ModerationRules.AutoDecide(Req("allow", "brand-term") with { Kind = "text" }, on, false).Status);
        Assert.Equal(ReviewStatus.Pending, ModerationRules.AutoDecide(Req("review") with { Kind = "text" }, on, false).Status);
        var blocked = ModerationRules.AutoDecide(Req("allow") with { Kind = "text" }, on, true);
        Assert.Equal(ReviewStatus.Pending, blocked.Status);
        Assert.Contains("blocked-fan", blocked.Flags);

        var (item, audit) = ModerationRules.NewItem(Req("allow") with { Kind = "text" }, on, false, T0);
        Assert.True(item.Automatic);
        Assert.Equal(("auto_approve", "auto", true, (string?)null, "approved"), (audit!.Action, audit.Actor, audit.Automatic, audit.PreviousStatus, audit.NewStatus));
    }

    private static ReviewItem Item(ReviewStatus status = ReviewStatus.Pending, string? holder = "mod-a", DateTimeOffset? lease = null)
        => new("c-test", "e1", "fan-1", "photo", "fr-CH", T0, T0, "review", null, [], null, 50, status, false, 0, 0, holder, "claim",
            holder is null ? null : lease ?? T0.AddMinutes(10));

    [Fact]
    public void A_decision_needs_a_live_claim_held_by_the_caller()
    {
        var now = T0.AddMinutes(5);
        Assert.Equal("item_not_held", ModerationRules.Decide(Item(holder: "mod-b"), ReviewAction.Approve, null, null, "mod-a", false, now).Refused!.Code);
        Assert.Equal("item_not_held", ModerationRules.Decide(Item(holder: null), ReviewAction.Approve, null, null, "mod-a", false, now).Refused!.Code);
        Assert.Equal("claim_expired", ModerationRules.Decide(Item(lease: now), ReviewAction.Approve, null, null, "mod-a", false, now).Refused!.Code);
        Assert.Equal("escalated_admin_only", ModerationRules.Decide(Item(ReviewStatus.Escalated), ReviewAction.Approve, null, null, "mod-a", false, now).Refused!.Code);

        var (item, audit, refused) = ModerationRules.Decide(Item(), ReviewAction.Reject, "spam", "ad link", "mod-a", false, now);
        Assert.Null(refused);
        Assert.Equal((ReviewStatus.Rejected, "spam", "mod-a", now, 1, (string?)null), (item!.Status, item.ReasonCode, item.DecidedBy, item.DecidedAt!.Value, item.Version, item.ClaimedBy));
        Assert.Equal(("reject", "mod-a", false, now, "pending", "rejected", "spam", "ad link", 1),
            (audit!.Action, audit.Actor, audit.Automatic, audit.At, audit.PreviousStatus, audit.NewStatus, audit.ReasonCode, audit.Note, audit.Seq));

        // The same decision again is a harmless retry; a different one is refused.
        Assert.Equal((null, null, null), ModerationRules.Decide(item, ReviewAction.Reject, "spam", null, "mod-a", false, now));
        Assert.Equal("already_decided", ModerationRules.Decide(item, ReviewAction.Approve, null, null, "mod-a", false, now).Refused!.Code);
        Assert.Equal("already_decided", ModerationRules.Decide(item, ReviewAction.Reject, "spam", null, "mod-b", false, now).Refused!.Code);
    }

    [Fact]
    public void Reason_codes_are_validated_and_the_fan_sees_the_text_in_the_entry_language()
    {
        Assert.Equal("unknown_reason", ModerationRules.ValidateDecision(ReviewAction.Reject, "ugly", null, false)!.Code);
        Assert.Equal("reason_required", ModerationRules.ValidateDecision(ReviewAction.Reject, null, null, false)!.Code);
        Assert.Equal("bulk_action_not_allowed", ModerationRules.ValidateDecision(ReviewAction.Escalate, null, null, true)!.Code);
        Assert.Null(ModerationRules.ValidateDecision(ReviewAction.Approve, null, "fine", true));
        Assert.Equal("Votre participation ressemble à de la publicité ou du spam.", ModerationRules.ReasonText("spam", "fr-CH"));
        Assert.Equal("Your entry looks like advertising or spam.", ModerationRules.ReasonText("spam", "it"));
    }

    [Fact]
    public void Reports_hide_an_approved_entry_at_the_threshold_and_restart_the_sla_clock()
    {
        var approved = Item(ReviewStatus.Approved, holder: null) with { Version = 1 };
        var (one, a1) = ModerationRules.Report(approved, 2, T0.AddHours(1));
        Assert.Null(a1);
        Assert.Equal((1, ReviewStatus.Approved, false), (one.Reports, one.Status, one.Hidden));
        var (two, a2) = ModerationRules.Report(one, 2, T0.AddHours(2));
        Assert.Equal((2, ReviewStatus.Pending, true, T0.AddHours(2), 70, 2), (two.Reports, two.Status, two.Hidden, two.QueuedAt, two.Priority, two.Version));
        Assert.Contains("reported", two.Flags);
        Assert.Equal(("hide_reported", "approved", "pending+hidden", true), (a2!.Action, a2.PreviousStatus, a2.NewStatus, a2.Automatic));
        // Further reports on a hidden entry count but do not audit again.
        Assert.Null(ModerationRules.Report(two, 2, T0.AddHours(3)).Audit);
    }

    [Fact]
    public void Sla_figures_match_a_hand_computed_example()
    {
        var now = T0.AddHours(10);
        ReviewItem Decided(double hours, bool auto = false) => Item(ReviewStatus.Approved, null) with { DecidedAt = T0.AddHours(hours), Automatic = auto };
        var items = new List<ReviewItem>
        {
            Decided(1), Decided(3), Decided(30), Decided(5), Decided(0, auto: true),
            Item(holder: null) with { QueuedAt = T0.AddHours(4) },
            Item(ReviewStatus.Escalated, null) with { QueuedAt = T0.AddHours(2) },
        };
        var sla = ModerationRules.Sla(items, 24, now);
        // Human decisions took 1, 3, 5, 30 h: median (3 + 5) / 2 = 4 h; 3 of 4 within 24 h.
        Assert.Equal(4 * 3600, sla.MedianTimeToDecisionSeconds);
        Assert.Equal(0.75, sla.ShareDecidedWithinTarget);
        Assert.Equal((2, 1, 1, 4, 1), (sla.Depth, sla.Pending, sla.Escalated, sla.HumanDecisions, sla.AutomaticDecisions));
        Assert.Equal(8 * 3600, sla.OldestPendingAgeSeconds); // the escalated item queued at T0+2h
    }
}
