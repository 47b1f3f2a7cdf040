namespace Campaigns.Submissions;

public static class Kinds
{
    public const string Story = "story", Photo = "photo", Video = "video", Label = "label";
    public static readonly string[] All = [Story, Photo, Video, Label];
}

/// <summary>Where an entry stands. The fan sees it with the reason; the gallery shows approved entries only.</summary>
public static class Statuses
{
    public const string AwaitingUpload = "awaiting_upload";
    public const string Processing = "processing";
    public const string Pending = "pending";      // waiting for moderation
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Hidden = "hidden";        // pending review again after reports
    public const string Expired = "expired";      // the upload slot was never completed
    public const string Withdrawn = "withdrawn";  // the owner took it back: media and texts removed, for good
}

/// <summary>A label order's status, as the fan looks it up ("where is my label?").</summary>
public static class OrderStatuses
{
    public const string Submitted = "submitted", InReview = "in_review", Approved = "approved", Rejected = "rejected",
        InPrintBatch = "in_print_batch", Shipped = "shipped";
}

/// <summary>
/// What the fan accepted with this submission; each grant has its own instant. <see cref="PublicDisplay"/> follows the
/// fan's public-display choice for the campaign (Fans): taken at submission, changed whenever the fan changes it.
/// </summary>
public sealed record SubmissionConsent(string? RulesVersion, DateTimeOffset RulesAcceptedAt, DateTimeOffset RightsGrantedAt,
    DateTimeOffset AgeConfirmedAt, bool MarketingOptIn, DateTimeOffset? MarketingOptInAt, bool PublicDisplay = false,
    DateTimeOffset? PublicDisplayAt = null);

/// <summary>The upload slot: the one blob the fan may write, what they declared and what the server found.</summary>
/// <remarks>The fan's SAS can only create the blob once, and at "complete" the checked version is copied to the server's
/// originals container; <see cref="BlobETag"/> is that copy's version, and every later read requires it.</remarks>
public sealed record UploadInfo(string BlobName, string DeclaredContentType, long DeclaredSize, DateTimeOffset ExpiresAt,
    long? Size = null, string? ContentType = null, DateTimeOffset? CompletedAt = null, string? BlobETag = null);

/// <summary>Display derivatives in the private derivatives container. <see cref="PublicToken"/> is set while the entry is
/// published (approved, shown): its derivatives are then copied to the public container under names with that token.</summary>
public sealed record MediaInfo(int Width, int Height, string SmallBlob, string LargeBlob, string? PublicToken = null);

public sealed record LabelOrder(string? BatchId = null, DateTimeOffset? BatchedAt = null, string? Carrier = null,
    string? TrackingNumber = null, DateTimeOffset? ShippedAt = null);

public sealed record Entry(
    string CampaignId,
    string EntryId,
    string OwnerFanId,
    string Kind,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? SubmittedAt,
    string? Locale,
    string? Title,
    string? Text,
    SubmissionConsent Consent,
    UploadInfo? Upload = null,
    MediaInfo? Media = null,
    string? Safety = null,
    string? SafetyReason = null,
    string[]? Flags = null,
    string? ReasonCode = null,
    string? ReasonText = null,
    bool OwnerHidden = false,
    LabelOrder? Order = null)
{
    public bool InGallery => Status == Statuses.Approved && !OwnerHidden;

    public string? OrderStatus => Kind != Kinds.Label ? null : Order switch
    {
        { ShippedAt: not null } => OrderStatuses.Shipped,
        { BatchId: not null } => OrderStatuses.InPrintBatch,
        _ => Status switch
        {
            Statuses.Approved => OrderStatuses.Approved,
            Statuses.Rejected => OrderStatuses.Rejected,
            Statuses.Pending or Statuses.Hidden => OrderStatuses.InReview,
            _ => OrderStatuses.Submitted,
        },
    };
}

public sealed record SubmissionConsentInput(string? RulesVersion = null, bool RightsGrant = false, bool AgeConfirmed = false, bool MarketingOptIn = false);

public sealed record UploadRequest(string ContentType, long Size);

/// <summary>What a fan sends: the kind, consent, its text fields and, for media, the upload it will make.</summary>
public sealed record SubmissionInput(string Kind, SubmissionConsentInput Consent, string? Locale = null, string? Title = null,
    string? Text = null, UploadRequest? Upload = null);

/// <summary>Per-campaign settings a marketer keeps: names that may not appear and extra protected terms.</summary>
public sealed record SubmissionSettings(string[] ForbiddenNames, string[] BrandTerms)
{
    public static readonly SubmissionSettings Empty = new([], []);
}

/// <summary>The entrant's view of their own entry: status, reason, and their upload slot while it is open.</summary>
public sealed record OwnEntryView(string CampaignId, string EntryId, string Kind, string Status, string? ReasonCode, string? ReasonText,
    DateTimeOffset CreatedAt, DateTimeOffset? SubmittedAt, string? Locale, string? Title, string? Text, string? OrderStatus,
    string? Carrier, string? TrackingNumber, DateTimeOffset? ShippedAt, MediaUrls? Media, SubmissionConsent Consent)
{
    public static OwnEntryView Of(Entry e, MediaUrls? media) => new(e.CampaignId, e.EntryId, e.Kind,
        e.OwnerHidden && e.Status == Statuses.Approved ? Statuses.Hidden : e.Status, e.ReasonCode, e.ReasonText,
        e.CreatedAt, e.SubmittedAt, e.Locale, e.Title, e.Text, e.OrderStatus, e.Order?.Carrier, e.Order?.TrackingNumber,
        e.Order?.ShippedAt, media, e.Consent);
}

public sealed record MediaUrls(string Small, string Large, int Width, int Height);

/// <summary>Public fields only: no owner id, no consent, no original. A label's text only with its owner's public-display consent.</summary>
public sealed record GalleryItem(string EntryId, string Kind, DateTimeOffset SubmittedAt, string? Locale, string? Title, string? Text,
    string? TextHtml, MediaUrls? Media);
