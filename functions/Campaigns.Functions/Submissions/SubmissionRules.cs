using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using Campaigns.Platform;

namespace Campaigns.Submissions;

/// <summary>Pure decisions about submissions, given <c>now</c>: what may be submitted, completed, expired, moderated.</summary>
public static partial class SubmissionRules
{
    [GeneratedRegex("^[a-z0-9]{10,40}$")] public static partial Regex EntryIdPattern();
    [GeneratedRegex("^[a-z]{2,3}(-[A-Z]{2})?$")] private static partial Regex LocalePattern();

    /// <summary>Time-ordered ids: creation ticks in hex, then randomness.</summary>
    public static string NewEntryId(DateTimeOffset now, Random random)
    {
        const string alphabet = "abcdefghjkmnpqrstvwxyz23456789";
        return now.UtcTicks.ToString("x15") + new string(Enumerable.Range(0, 8).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
    }

    /// <summary>The entry id of a submission sent with an Idempotency-Key: the fan's retries name the same entry.</summary>
    public static string KeyedEntryId(string fanId, string campaignId, string key) => "k" + IdempotencyKeys.Id(key, 31, "submission", campaignId, fanId);

    /// <summary>Whether the campaign accepts entries at <paramref name="now"/>; a problem when not.</summary>
    public static ApiProblem? Accepting(Campaign? campaign, DateTimeOffset now)
    {
        if (campaign is null || !campaign.IsVisibleToPublic(now)) return ApiProblem.NotFound("campaign_not_found", "The campaign");
        if (!campaign.Runs(CampaignFeature.Submissions))
            return ApiProblem.Conflict("submissions_not_enabled", "This campaign does not take submissions.");
        if (campaign.Windows.Entry is { } w && !w.Contains(now))
            return ApiProblem.Conflict("entries_closed", now < w.Start ? "Entries are not open yet." : "Entries are closed.");
        if (campaign.Windows.Publish is { } p && now >= p.End)
            return ApiProblem.Conflict("entries_closed", "The campaign has ended.");
        return null;
    }

    public static Dictionary<string, string[]> Validate(SubmissionInput input, Campaign campaign, SubmissionsOptions o, bool hasLabelTemplate)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string f, string m) { if (!errors.TryGetValue(f, out var l)) errors[f] = l = []; l.Add(m); }

        if (!Kinds.All.Contains(input.Kind)) Add("kind", "Use story, photo, video or label.");
        if (input.Locale is { } loc && (!LocalePattern().IsMatch(loc) || !campaign.Locales.Contains(loc)))
            Add("locale", $"Use one of the campaign's locales: {string.Join(", ", campaign.Locales)}.");
        if (input.Consent is null) Add("consent", "Required.");

        void Length(string field, string? value, int max, bool required)
        {
            if (string.IsNullOrWhiteSpace(value)) { if (required) Add(field, "Required."); }
            else if (value.Length > max) Add(field, $"At most {max} characters.");
        }

        switch (input.Kind)
        {
            case Kinds.Story:
                Length("title", input.Title, o.TitleMaxChars, true);
                Length("text", input.Text, o.StoryMaxChars, true);
                if (input.Upload is not null) Upload(input.Upload, ContentSniffer.ImageTypes, o.MaxPhotoBytes, Add);
                break;
            case Kinds.Photo:
                Length("title", input.Title, o.TitleMaxChars, false);
                Length("text", input.Text, o.CaptionMaxChars, false);
                if (input.Upload is null) Add("upload", "A photo needs an upload: give its contentType and size.");
                else Upload(input.Upload, ContentSniffer.ImageTypes, o.MaxPhotoBytes, Add);
                break;
            case Kinds.Video:
                Length("title", input.Title, o.TitleMaxChars, false);
                Length("text", input.Text, o.CaptionMaxChars, false);
                if (input.Upload is null) Add("upload", "A video needs an upload: give its contentType and size.");
                else Upload(input.Upload, ContentSniffer.VideoTypes, o.MaxVideoBytes, Add);
                break;
            case Kinds.Label:
                if (input.Title is not null) Add("title", "Labels have no title.");
                Length("text", input.Text, o.LabelMaxChars, true);
                if (input.Upload is not null) Add("upload", "Labels have no upload.");
                break;
        }
        return errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    private static void Upload(UploadRequest u, string[] types, long max, Action<string, string> add)
    {
        if (!types.Contains(u.ContentType)) add("upload.contentType", $"Use {string.Join(", ", types)}.");
        if (u.Size <= 0) add("upload.size", "Give the file's size in bytes.");
        else if (u.Size > max) add("upload.size", $"At most {max} bytes.");
    }

    /// <summary>Problem codes for the upload the fan declared: too large is 413, a type outside the allow-list 415.</summary>
    public static ApiProblem? UploadProblem(SubmissionInput input, SubmissionsOptions o)
    {
        if (input.Upload is not { } u) return null;
        var video = input.Kind == Kinds.Video;
        var max = video ? o.MaxVideoBytes : o.MaxPhotoBytes;
        if (u.ContentType is "image/heic" or "image/heif")
            return new ApiProblem(415, "heic_not_supported", "HEIC photos are not supported.", "Send a JPEG, PNG or WebP (on iPhone: Settings › Camera › Formats › Most Compatible).");
        if (!(video ? ContentSniffer.VideoTypes : ContentSniffer.ImageTypes).Contains(u.ContentType))
            return new ApiProblem(415, "unsupported_content_type", "This file type is not accepted.",
                $"Use {string.Join(", ", video ? ContentSniffer.VideoTypes : ContentSniffer.ImageTypes)}.");
        if (u.Size > max) return new ApiProblem(413, "upload_too_large", "The file is too large.", $"At most {max} bytes.");
        return null;
    }

    /// <summary>Consent with each submission: current rules version, rights grant and age confirmation required; marketing separate.</summary>
    public static (SubmissionConsent? Consent, ApiProblem? Problem) Consent(Campaign campaign, SubmissionConsentInput input, DateTimeOffset now)
    {
        var expected = campaign.Rules?.Version;
        if (expected is not null && input.RulesVersion != expected)
            return (null, new ApiProblem(400, "rules_version_mismatch", "Accept the current rules.", $"The current rules version is '{expected}'."));
        if (!input.RightsGrant) return (null, new ApiProblem(400, "rights_grant_required", "Grant the rights to use your entry.", "Set consent.rightsGrant to true."));
        if (!input.AgeConfirmed) return (null, new ApiProblem(400, "age_confirmation_required", "Confirm your age.", "Set consent.ageConfirmed to true."));
        return (new SubmissionConsent(expected, now, now, now, input.MarketingOptIn, input.MarketingOptIn ? now : null), null);
    }

    /// <summary>The combined verdict over every text field of the input.</summary>
    public static SafetyVerdict Safety(TextSafety safety, SubmissionInput input, string? locale, SubmissionSettings settings, IReadOnlyCollection<string> globalBrandTerms)
    {
        var brands = globalBrandTerms.Concat(settings.BrandTerms).ToArray();
        var verdict = SafetyVerdict.Allowed;
        if (input.Title is { } t) verdict = SafetyOutcomes.Worst(verdict, safety.Check(t, locale, brands, settings.ForbiddenNames, multiline: false));
        if (input.Text is { } x) verdict = SafetyOutcomes.Worst(verdict, safety.Check(x, locale, brands, settings.ForbiddenNames, multiline: input.Kind == Kinds.Story));
        return verdict;
    }

    /// <summary>The text the public gallery may show: a label's only with its owner's public-display consent.</summary>
    public static string? PublicText(Entry e) => e.Kind == Kinds.Label && !e.Consent.PublicDisplay ? null : e.Text;

    /// <summary>Unicode NFC and trimmed; what is stored and shown (HTML-escaped where the gallery offers HTML).</summary>
    public static string? Clean(string? text) => text?.Normalize(System.Text.NormalizationForm.FormC).Trim();

    public static Entry Create(string id, string fanId, Campaign campaign, SubmissionInput input, SubmissionConsent consent,
        SafetyVerdict verdict, SubmissionsOptions o, DateTimeOffset now)
    {
        var locale = input.Locale ?? campaign.Locales.FirstOrDefault();
        UploadInfo? upload = input.Upload is { } u
            ? new UploadInfo(UploadBlobName(campaign.Id, id), u.ContentType, u.Size, now.AddMinutes(o.UploadSlotMinutes))
            : null;
        var status = upload is null ? Statuses.Pending : Statuses.AwaitingUpload;
        return new Entry(campaign.Id, id, fanId, input.Kind, status, now, now, upload is null ? now : null, locale,
            Clean(input.Title), Clean(input.Text), consent, upload, null, verdict.Outcome, verdict.Category, verdict.Flags,
            Order: input.Kind == Kinds.Label ? new LabelOrder() : null);
    }

    /// <summary>What "complete" may do with this entry before the blob is looked at.</summary>
    public static ApiProblem? CanComplete(Entry? entry, string fanId)
    {
        // Someone else's slot reads as missing: ids must not be probeable.
        if (entry is null || entry.OwnerFanId != fanId) return ApiProblem.NotFound("submission_not_found", "The submission");
        if (entry.Upload is null) return ApiProblem.Conflict("no_upload", "This submission has no upload to complete.");
        if (entry.Status == Statuses.Expired) return new ApiProblem(410, "upload_slot_expired", "The upload slot expired.", "Start a new submission.");
        if (entry.Status != Statuses.AwaitingUpload) return ApiProblem.Conflict("already_completed", "This upload was already completed.");
        return null;
    }

    /// <summary>The real stored size against the limit and the size the fan declared (checked before the server copies the blob).</summary>
    public static ApiProblem? SizeProblem(Entry e, long? blobSize, SubmissionsOptions o)
    {
        if (blobSize is null) return ApiProblem.Conflict("upload_missing", "Nothing was uploaded yet: PUT the file to the upload URL first.");
        var max = e.Kind == Kinds.Video ? o.MaxVideoBytes : o.MaxPhotoBytes;
        if (blobSize > max) return new ApiProblem(413, "upload_too_large", "The file is too large.", $"At most {max} bytes.");
        if (blobSize == 0) return new ApiProblem(415, "unsupported_content_type", "The file is empty.");
        // The limit was checked against the declaration; a different real size is a different file.
        if (blobSize != e.Upload!.DeclaredSize)
            return new ApiProblem(blobSize > e.Upload.DeclaredSize ? 413 : 400, "upload_size_mismatch", "The file is not the size that was declared.",
                $"{e.Upload.DeclaredSize} bytes were declared, {blobSize} were uploaded. Start a new submission with the file's real size.");
        return null;
    }

    /// <summary>Checks the server's copy of the upload by its real size and sniffed bytes; returns the completed entry or a problem.</summary>
    public static (Entry? Entry, ApiProblem? Problem) Complete(Entry e, long? blobSize, string? sniffed, SubmissionsOptions o, DateTimeOffset now, string? blobETag = null)
    {
        if (SizeProblem(e, blobSize, o) is { } sizeProblem) return (null, sizeProblem);
        var video = e.Kind == Kinds.Video;
        if (sniffed is ContentSniffer.Heic)
            return (null, new ApiProblem(415, "heic_not_supported", "HEIC photos are not supported.", "Send a JPEG, PNG or WebP."));
        var allowed = video ? ContentSniffer.IsVideoKind(sniffed) : ContentSniffer.IsImageKind(sniffed);
        if (!allowed)
            return (null, new ApiProblem(415, "unsupported_content_type", "The file's content is not an accepted type.",
                video ? "Upload an MP4, MOV or WebM video." : "Upload a JPEG, PNG or WebP photo."));
        if (sniffed != e.Upload!.DeclaredContentType)
            return (null, new ApiProblem(415, "content_type_mismatch", "The file's content is not the type that was declared.",
                $"{e.Upload.DeclaredContentType} was declared; the file is {sniffed}."));
        var upload = e.Upload! with { Size = blobSize, ContentType = sniffed, CompletedAt = now, BlobETag = blobETag };
        return (e with
        {
            Upload = upload,
            Status = video ? Statuses.Pending : Statuses.Processing,
            SubmittedAt = now,
            UpdatedAt = now,
        }, null);
    }

    public static Entry Processed(Entry e, ImageOutcome outcome, MediaInfo? media, DateTimeOffset now) => outcome.Ok
        ? e with { Status = Statuses.Pending, Media = media, UpdatedAt = now }
        : e with
        {
            Status = Statuses.Rejected, ReasonCode = outcome.ReasonCode, ReasonText = outcome.ReasonText, UpdatedAt = now,
            Flags = (e.Flags ?? []).Append(outcome.ReasonCode!.Replace('_', '-')).Distinct().ToArray(),
        };

    /// <summary>An open slot past its expiry becomes expired; anything else is left alone.</summary>
    public static Entry? Expire(Entry e, DateTimeOffset now)
        => e.Status == Statuses.AwaitingUpload && e.Upload is { } u && u.ExpiresAt <= now
            ? e with { Status = Statuses.Expired, ReasonCode = "upload_not_completed", ReasonText = "The upload was not completed in time.", UpdatedAt = now }
            : null;

    /// <summary>Entries a fan already has in the campaign count against the quota; slots that expired unused do not.</summary>
    public static ApiProblem? Quota(int entriesSoFar, SubmissionsOptions o)
        => entriesSoFar >= o.MaxEntriesPerFan
            ? ApiProblem.Conflict("submission_quota_reached", $"You have reached this campaign's limit of {o.MaxEntriesPerFan} submissions.")
            : null;

    public static string UploadBlobName(string campaignId, string entryId) => $"{campaignId}/{entryId}/original";

    /// <summary>The server's copy, by prefix "image/" or "video/": a lifecycle rule can then expire kept photo originals without touching videos.</summary>
    public static string OriginalName(Entry e) => (e.Kind == Kinds.Video ? "video/" : "image/") + e.Upload!.BlobName;

    /// <summary>Public derivative names carry the publication token: a withdrawn name is never used again.</summary>
    public static string PublicName(Entry e, string token, int box) => $"{PublicPrefix(e)}{token}/{box}.jpg";
    public static string PublicPrefix(Entry e) => $"{e.CampaignId}/{e.EntryId}/";

    /// <summary>
    /// Publication follows the gallery: an entry that is shown gets a fresh token (<paramref name="newToken"/>) if it
    /// has none, one that is not shown (rejected, hidden, pending again, owner blocked) loses it.
    /// </summary>
    public static Entry Published(Entry e, string newToken) => e.Media switch
    {
        { PublicToken: null } m when e.InGallery => e with { Media = m with { PublicToken = newToken } },
        { PublicToken: not null } m when !e.InGallery => e with { Media = m with { PublicToken = null } },
        _ => e,
    };

    public static readonly string[] ModerationStatuses = [Statuses.Approved, Statuses.Rejected, Statuses.Hidden, Statuses.Pending];

    /// <summary>Moderation outcomes apply to entries that reached review; uploads still in flight cannot be decided.</summary>
    public static (Entry? Entry, ApiProblem? Problem) Moderate(Entry e, Platform.EntryDecision d)
    {
        if (!ModerationStatuses.Contains(d.Status))
            return (null, ApiProblem.Validation("status", "Use approved, rejected, hidden or pending."));
        if (e.Status == Statuses.Withdrawn)
            return (null, ApiProblem.Conflict("entry_withdrawn", "The owner withdrew the entry; it cannot be published again."));
        if (e.Status is Statuses.AwaitingUpload or Statuses.Processing or Statuses.Expired)
            return (null, ApiProblem.Conflict("entry_not_reviewable", $"The entry is {e.Status}; it cannot be moderated yet."));
        return (e with
        {
            Status = d.Status,
            ReasonCode = d.Status == Statuses.Rejected ? d.ReasonCode ?? "moderation" : d.Status == Statuses.Hidden ? d.ReasonCode : null,
            // Confirming the pipeline's own rejection keeps its explanation.
            ReasonText = d.Status == Statuses.Rejected
                ? d.ReasonText ?? (d.ReasonCode is not null && d.ReasonCode == e.ReasonCode ? e.ReasonText : null) ?? "A moderator declined this entry."
                : d.Status == Statuses.Hidden ? d.ReasonText : null,
            UpdatedAt = d.At,
        }, null);
    }

    /// <summary>
    /// The owner withdraws an entry: its texts and media go and it leaves the gallery for good; null when it already
    /// is withdrawn. Vote counts it received and closed judging results keep their numbers (they are not per entry rows).
    /// </summary>
    public static Entry? Withdraw(Entry e, DateTimeOffset now) => e.Status == Statuses.Withdrawn ? null : e with
    {
        Status = Statuses.Withdrawn, Title = null, Text = null, Media = null, OwnerHidden = false, ReasonCode = "withdrawn_by_owner",
        ReasonText = null, UpdatedAt = now,
    };

    /// <summary>Gallery order by revealed votes: most votes first, then newest, then entry id (a total, stable order).</summary>
    public static IEnumerable<Entry> ByVotes(IEnumerable<Entry> entries, IReadOnlyDictionary<string, long> votes)
        => entries.OrderByDescending(e => votes.GetValueOrDefault(e.EntryId))
            .ThenByDescending(e => e.SubmittedAt ?? e.CreatedAt)
            .ThenBy(e => e.EntryId, StringComparer.Ordinal);
}
