using Campaigns.Campaigns;
using Campaigns.Labels;
using Campaigns.Platform;
using Campaigns.Submissions;

namespace Campaigns.Tests.Submissions;

public sealed class SubmissionRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly SubmissionsOptions O = new();

    private static Campaign Campaign(CampaignStatus status = CampaignStatus.Published, CampaignFeature[]? features = null, TimeWindow? entry = null) => new(
        "spread-stories", "Stories", "Spread", "Europe/Rome", ["it", "en"], features ?? [CampaignFeature.Submissions],
        new CampaignWindows(Entry: entry ?? new TimeWindow(Now.AddDays(-1), Now.AddDays(1))), new Eligibility(),
        new VersionedText("r2", new() { ["it"] = "Regole" }), null, status, Now.AddDays(-10), Now.AddDays(-10), Now.AddDays(-9));

    private static SubmissionInput Photo(long size = 1000, string type = "image/jpeg") =>
        new(Kinds.Photo, new SubmissionConsentInput("r2", true, true), "it", null, "caption", new UploadRequest(type, size));

    [Fact]
    public void Campaign_must_be_public_take_submissions_and_be_in_its_entry_window()
    {
        Assert.Null(SubmissionRules.Accepting(Campaign(), Now));
        Assert.Equal("campaign_not_found", SubmissionRules.Accepting(null, Now)!.Code);
        Assert.Equal("campaign_not_found", SubmissionRules.Accepting(Campaign(CampaignStatus.Draft), Now)!.Code);
        Assert.Equal("submissions_not_enabled", SubmissionRules.Accepting(Campaign(features: [CampaignFeature.Voting]), Now)!.Code);
        Assert.Equal("entries_closed", SubmissionRules.Accepting(Campaign(entry: new TimeWindow(Now.AddDays(-3), Now)), Now)!.Code); // end is exclusive
    }

    [Fact]
    public void Consent_needs_current_rules_rights_and_age_and_keeps_each_instant()
    {
        var c = Campaign();
        Assert.Equal("rules_version_mismatch", SubmissionRules.Consent(c, new("r1", true, true), Now).Problem!.Code);
        Assert.Equal("rights_grant_required", SubmissionRules.Consent(c, new("r2", false, true), Now).Problem!.Code);
        Assert.Equal("age_confirmation_required", SubmissionRules.Consent(c, new("r2", true, false), Now).Problem!.Code);
        var (consent, _) = SubmissionRules.Consent(c, new("r2", true, true, MarketingOptIn: false), Now);
        Assert.Equal(new SubmissionConsent("r2", Now, Now, Now, false, null), consent);
        Assert.Equal(Now, SubmissionRules.Consent(c, new("r2", true, true, true), Now).Consent!.MarketingOptInAt);
    }

    [Fact]
    public void Validation_limits_by_kind()
    {
        var c = Campaign();
        Assert.Empty(SubmissionRules.Validate(Photo(), c, O, false));
        Assert.Contains("text", SubmissionRules.Validate(new SubmissionInput(Kinds.Story, new(), "it", "t", new string('a', O.StoryMaxChars + 1)), c, O, false).Keys);
        Assert.Contains("text", SubmissionRules.Validate(new SubmissionInput(Kinds.Label, new(), "it", null, "  "), c, O, true).Keys);
        Assert.Contains("upload", SubmissionRules.Validate(new SubmissionInput(Kinds.Video, new(), "it"), c, O, false).Keys);
        Assert.Contains("locale", SubmissionRules.Validate(Photo() with { Locale = "de" }, c, O, false).Keys);
        Assert.Contains("kind", SubmissionRules.Validate(Photo() with { Kind = "poem" }, c, O, false).Keys);
        Assert.Equal("upload_too_large", SubmissionRules.UploadProblem(Photo(O.MaxPhotoBytes + 1), O)!.Code);
        Assert.Equal("unsupported_content_type", SubmissionRules.UploadProblem(Photo(type: "text/html"), O)!.Code);
        Assert.Equal("heic_not_supported", SubmissionRules.UploadProblem(Photo(type: "image/heic"), O)!.Code);
    }

    private static Entry NewPhoto() => SubmissionRules.Create("0123456789abcdefghjk", "fan-1", Campaign(), Photo(),
        SubmissionRules.Consent(Campaign(), new("r2", true, true), Now).Consent!, SafetyVerdict.Allowed, O, Now);

    [Fact]
    public void Complete_checks_owner_state_size_and_sniffed_type()
    {
        var e = NewPhoto();
        Assert.Equal(Statuses.AwaitingUpload, e.Status);
        Assert.Equal(Now.AddMinutes(O.UploadSlotMinutes), e.Upload!.ExpiresAt);
        Assert.Equal("submission_not_found", SubmissionRules.CanComplete(e, "fan-2")!.Code);
        Assert.Null(SubmissionRules.CanComplete(e, "fan-1"));
        Assert.Equal("upload_missing", SubmissionRules.Complete(e, null, null, O, Now).Problem!.Code);
        Assert.Equal("upload_too_large", SubmissionRules.Complete(e, O.MaxPhotoBytes + 1, ContentSniffer.Jpeg, O, Now).Problem!.Code);
        Assert.Equal("unsupported_content_type", SubmissionRules.Complete(e, 1000, null, O, Now).Problem!.Code);
        Assert.Equal("unsupported_content_type", SubmissionRules.Complete(e, 1000, ContentSniffer.Mp4, O, Now).Problem!.Code);
        Assert.Equal("heic_not_supported", SubmissionRules.Complete(e, 1000, ContentSniffer.Heic, O, Now).Problem!.Code);
        // The real file against the declaration (1000 bytes, image/jpeg): size and type must match.
        Assert.Equal((413, "upload_size_mismatch"), (SubmissionRules.Complete(e, 259_494, ContentSniffer.Jpeg, O, Now).Problem!.Status, SubmissionRules.Complete(e, 259_494, ContentSniffer.Jpeg, O, Now).Problem!.Code));
        Assert.Equal("upload_size_mismatch", SubmissionRules.SizeProblem(e, 999, O)!.Code);
        Assert.Equal("content_type_mismatch", SubmissionRules.Complete(e, 1000, ContentSniffer.Png, O, Now).Problem!.Code);
        var (done, _) = SubmissionRules.Complete(e, 1000, ContentSniffer.Jpeg, O, Now);
        Assert.Equal(Statuses.Processing, done!.Status);
        Assert.Equal(ContentSniffer.Jpeg, done.Upload!.ContentType);
        Assert.Equal("already_completed", SubmissionRules.CanComplete(done, "fan-1")!.Code);
    }

    [Fact]
    public void Slots_expire_only_after_their_expiry_and_only_while_awaiting_upload()
    {
        var e = NewPhoto();
        Assert.Null(SubmissionRules.Expire(e, e.Upload!.ExpiresAt.AddSeconds(-1)));
        var expired = SubmissionRules.Expire(e, e.Upload.ExpiresAt)!;
        Assert.Equal(Statuses.Expired, expired.Status);
        Assert.Equal("upload_slot_expired", SubmissionRules.CanComplete(expired, "fan-1")!.Code);
        Assert.Null(SubmissionRules.Expire(SubmissionRules.Complete(e, 1000, ContentSniffer.Jpeg, O, Now).Entry!, Now.AddDays(1)));
    }

    [Fact]
    public void The_quota_counts_the_fans_entries_against_the_setting()
    {
        Assert.Null(SubmissionRules.Quota(O.MaxEntriesPerFan - 1, O));
        Assert.Equal("submission_quota_reached", SubmissionRules.Quota(O.MaxEntriesPerFan, O)!.Code);
    }

    [Fact]
    public void Only_a_shown_entry_is_published_and_each_publication_has_a_new_token()
    {
        var pending = SubmissionRules.Complete(NewPhoto(), 1000, ContentSniffer.Jpeg, O, Now).Entry! with
        {
            Status = Statuses.Pending, Media = new MediaInfo(1080, 540, "c/e/320.jpg", "c/e/1080.jpg"),
        };
        Assert.Null(SubmissionRules.Published(pending, "t1").Media!.PublicToken);
        var approved = SubmissionRules.Published(pending with { Status = Statuses.Approved }, "t1");
        Assert.Equal("t1", approved.Media!.PublicToken);
        Assert.Equal("t1", SubmissionRules.Published(approved, "t2").Media!.PublicToken);   // stays while shown
        foreach (var withdrawn in new[] { approved with { Status = Statuses.Rejected }, approved with { Status = Statuses.Hidden }, approved with { OwnerHidden = true } })
            Assert.Null(SubmissionRules.Published(withdrawn, "t3").Media!.PublicToken);
        Assert.Equal("t4", SubmissionRules.Published(SubmissionRules.Published(approved with { Status = Statuses.Rejected }, "x") with { Status = Statuses.Approved }, "t4").Media!.PublicToken);
        Assert.Equal($"{approved.CampaignId}/{approved.EntryId}/t1/1080.jpg", SubmissionRules.PublicName(approved, "t1", 1080));
    }

    [Fact]
    public void Moderation_applies_to_reviewable_entries_and_drives_the_label_order_status()
    {
        var decision = new EntryDecision(Statuses.Approved, null, null, "mod-1", Now);
        Assert.Equal("entry_not_reviewable", SubmissionRules.Moderate(NewPhoto(), decision).Problem!.Code);

        var label = SubmissionRules.Create("0123456789abcdefghjk", "fan-1", Campaign(), new SubmissionInput(Kinds.Label, new("r2", true, true), "it", null, "Per Marco"),
            SubmissionRules.Consent(Campaign(), new("r2", true, true), Now).Consent!, SafetyVerdict.Allowed, O, Now);
        Assert.Equal(OrderStatuses.InReview, label.OrderStatus);
        var approved = SubmissionRules.Moderate(label, decision).Entry!;
        Assert.Equal(OrderStatuses.Approved, approved.OrderStatus);
        Assert.True(approved.InGallery);
        var rejected = SubmissionRules.Moderate(label, decision with { Status = Statuses.Rejected, ReasonCode = "offensive" }).Entry!;
        Assert.Equal((OrderStatuses.Rejected, "offensive"), (rejected.OrderStatus, rejected.ReasonCode));
        var batched = approved with { Order = new LabelOrder("b1", Now) };
        Assert.Equal(OrderStatuses.InPrintBatch, batched.OrderStatus);
        Assert.Equal(OrderStatuses.Shipped, (batched with { Order = batched.Order! with { Carrier = "DHL", TrackingNumber = "X1", ShippedAt = Now } }).OrderStatus);
        Assert.Equal("validation_failed", SubmissionRules.Moderate(label, decision with { Status = "deleted" }).Problem!.Code);
    }

    [Fact]
    public void Manifest_cells_are_quoted_and_formulas_neutralised()
    {
        Assert.Equal("\"'=HYPERLINK(\"\"x\"\")\"", LabelService.Csv("=HYPERLINK(\"x\")"));
        Assert.Equal("\"Pour Marie, 💛\"", LabelService.Csv("Pour Marie, 💛"));
    }

    [Fact]
    public void Entry_ids_sort_by_creation_time()
    {
        var a = SubmissionRules.NewEntryId(Now, new Random(1));
        var b = SubmissionRules.NewEntryId(Now.AddTicks(1), new Random(2));
        Assert.True(string.CompareOrdinal(a, b) < 0);
        Assert.Matches(SubmissionRules.EntryIdPattern(), a);
    }
}
