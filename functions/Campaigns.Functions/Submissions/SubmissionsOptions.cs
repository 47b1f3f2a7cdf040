using Microsoft.Extensions.Options;

namespace Campaigns.Submissions;

/// <summary>Settings of the Submissions capability, section <c>Submissions</c>.</summary>
public sealed class SubmissionsOptions
{
    /// <summary>Largest photo upload (bytes).</summary>
    public long MaxPhotoBytes { get; set; } = 20 * 1024 * 1024;
    /// <summary>Largest video upload (bytes).</summary>
    public long MaxVideoBytes { get; set; } = 500L * 1024 * 1024;
    /// <summary>How long an upload slot (and its SAS) stays valid.</summary>
    public int UploadSlotMinutes { get; set; } = 15;
    /// <summary>Images whose header claims more pixels than this are refused before decoding.</summary>
    public long MaxImagePixels { get; set; } = 50_000_000;
    /// <summary>Images decoded at once per instance (each 12 MP photo needs tens of MB while it is processed).</summary>
    public int ImageConcurrency { get; set; } = 2;
    /// <summary>Images with a longer side than this are refused before decoding.</summary>
    public int MaxImageSide { get; set; } = 16_384;
    public int StoryMaxChars { get; set; } = 5_000;
    public int CaptionMaxChars { get; set; } = 500;
    public int TitleMaxChars { get; set; } = 120;
    public int LabelMaxChars { get; set; } = 40;
    /// <summary>Browser origins allowed to PUT uploads to Blob storage (comma-separated); set on the account at start when resources are created.</summary>
    public string UploadCorsOrigins { get; set; } = "*";
    /// <summary>Public base URL of the derivatives container (a CDN in Azure); empty: the container's own URL.</summary>
    public string MediaBaseUrl { get; set; } = "";
    /// <summary>Brand-protected terms (comma-separated): text naming them goes to review.</summary>
    public string BrandTerms { get; set; } = "";
    /// <summary>NCRONTAB (UTC) of the automatic print batch run.</summary>
    public string PrintBatchSchedule { get; set; } = "0 0 2 * * *";
    /// <summary>Largest number of labels in one print batch.</summary>
    public int PrintBatchSize { get; set; } = 500;
    /// <summary>Label previews one fan may request per minute (each uncached one renders an image).</summary>
    public int PreviewsPerMinute { get; set; } = 30;
    /// <summary>Delay of the back-up message that re-sends a text entry to review if the direct request was interrupted.</summary>
    public int ReviewRetryDelaySeconds { get; set; } = 30;
    /// <summary>Submissions one fan may make per campaign (slots that expired unused do not count).</summary>
    public int MaxEntriesPerFan { get; set; } = 20;
    /// <summary>Days a photo's original is kept (private) after its derivatives are made; 0: deleted at once.</summary>
    public int KeepPhotoOriginalsDays { get; set; }
    /// <summary>Queue of image-processing (and review back-up) messages.</summary>
    public string ImagesQueue { get; set; } = SubmissionsApi.ImagesQueue;
}

public sealed class SubmissionsOptionsValidator : IValidateOptions<SubmissionsOptions>
{
    public ValidateOptionsResult Validate(string? name, SubmissionsOptions o)
    {
        var errors = new List<string>();
        if (o.MaxPhotoBytes is < 1024 or > 200L * 1024 * 1024) errors.Add("Setting 'Submissions__MaxPhotoBytes' must be between 1 KiB and 200 MiB.");
        if (o.MaxVideoBytes is < 1024 or > 5L * 1024 * 1024 * 1024) errors.Add("Setting 'Submissions__MaxVideoBytes' must be between 1 KiB and 5 GiB.");
        if (o.UploadSlotMinutes is < 1 or > 120) errors.Add("Setting 'Submissions__UploadSlotMinutes' must be between 1 and 120.");
        if (o.MaxImagePixels is < 1_000_000 or > 200_000_000) errors.Add("Setting 'Submissions__MaxImagePixels' must be between 1,000,000 and 200,000,000.");
        if (o.ImageConcurrency is < 1 or > 64) errors.Add("Setting 'Submissions__ImageConcurrency' must be between 1 and 64.");
        if (o.MaxImageSide is < 1_080 or > 65_000) errors.Add("Setting 'Submissions__MaxImageSide' must be between 1080 and 65000.");
        if (o.PreviewsPerMinute is < 1 or > 10_000) errors.Add("Setting 'Submissions__PreviewsPerMinute' must be between 1 and 10000.");
        if (o.StoryMaxChars is < 1 or > 20_000) errors.Add("Setting 'Submissions__StoryMaxChars' must be between 1 and 20000.");
        if (o.CaptionMaxChars is < 1 or > 5_000) errors.Add("Setting 'Submissions__CaptionMaxChars' must be between 1 and 5000.");
        if (o.TitleMaxChars is < 1 or > 500) errors.Add("Setting 'Submissions__TitleMaxChars' must be between 1 and 500.");
        if (o.LabelMaxChars is < 1 or > 200) errors.Add("Setting 'Submissions__LabelMaxChars' must be between 1 and 200.");
        if (o.MediaBaseUrl.Length > 0 && !Uri.TryCreate(o.MediaBaseUrl, UriKind.Absolute, out _)) errors.Add("Setting 'Submissions__MediaBaseUrl' must be an absolute URL or empty.");
        try { NCrontab.CrontabSchedule.Parse(o.PrintBatchSchedule, new NCrontab.CrontabSchedule.ParseOptions { IncludingSeconds = true }); }
        catch (Exception) { errors.Add("Setting 'Submissions__PrintBatchSchedule' must be a six-field NCRONTAB expression."); }
        if (o.PrintBatchSize is < 1 or > 5_000) errors.Add("Setting 'Submissions__PrintBatchSize' must be between 1 and 5000.");
        if (!Platform.StorageNames.IsQueueName(o.ImagesQueue))
            errors.Add("Setting 'Submissions__ImagesQueue' must be a valid queue name (3–63 lowercase letters, digits, single hyphens).");
        if (o.ReviewRetryDelaySeconds is < 1 or > 600) errors.Add("Setting 'Submissions__ReviewRetryDelaySeconds' must be between 1 and 600.");
        if (o.MaxEntriesPerFan is < 1 or > 10_000) errors.Add("Setting 'Submissions__MaxEntriesPerFan' must be between 1 and 10000.");
        if (o.KeepPhotoOriginalsDays is < 0 or > 365) errors.Add("Setting 'Submissions__KeepPhotoOriginalsDays' must be between 0 and 365.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
