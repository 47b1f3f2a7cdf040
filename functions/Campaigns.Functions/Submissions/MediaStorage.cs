using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Submissions;

/// <summary>
/// Blob containers of the capability and the SAS it issues. The fan writes one blob in "submission-uploads" and
/// nothing else; at "complete" the server copies the checked version to "submission-originals", which no fan SAS
/// names, so bytes written later change nothing. Derivatives are made in the private "submission-derivatives";
/// only an approved entry's derivatives are copied to "submission-media", the one container served to the public,
/// under a name with a fresh token per publication, and deleted again when the entry leaves the gallery.
/// With a shared key (Azurite, connection strings) SAS are signed with the account key; in Azure, where shared
/// keys are disabled and the app runs as a managed identity, the same method signs with a user-delegation key.
/// </summary>
public sealed class MediaStorage(StorageClients storage, IOptions<SubmissionsOptions> options, TimeProvider time)
{
    public const string UploadsContainer = "submission-uploads";
    public const string MediaContainer = "submission-media";
    public const string OriginalsContainer = "submission-originals";
    public const string DerivativesContainer = "submission-derivatives";
    /// <summary>
    /// Public derivatives may be cached five minutes, not a year: a rejection, a hide or a block must take effect at
    /// the CDN and in browsers soon after the blob is deleted. Names change per publication, so a stale cache never
    /// serves a withdrawn name again after it expires, and a new approval never hits an old cached copy.
    /// </summary>
    public const string PublicCacheControl = "public, max-age=300";
    /// <summary>How long the owner's read URLs to their own not-yet-public media stay valid.</summary>
    public static readonly TimeSpan OwnerReadLifetime = TimeSpan.FromMinutes(15);
    public const string PreviewsContainer = "label-previews";
    public const string PrintContainer = "label-print";
    public const string TemplatesContainer = "label-templates";

    private readonly SemaphoreSlim _keyLock = new(1, 1);
    private UserDelegationKey? _key;

    public BlobContainerClient Uploads => storage.Container(UploadsContainer);
    public BlobContainerClient Media => storage.Container(MediaContainer);
    public BlobContainerClient Originals => storage.Container(OriginalsContainer);
    public BlobContainerClient Derivatives => storage.Container(DerivativesContainer);
    public BlobContainerClient Container(string name) => storage.Container(name);

    /// <summary>
    /// A URL that lets the holder create exactly this one blob until <paramref name="expiresOn"/>, and nothing else
    /// storage can refuse: "c" alone (no "w") creates a blob that does not exist yet but cannot overwrite it, stage or
    /// commit blocks, take or break a lease, set metadata, read, list or delete. A snapshot is still allowed with "c";
    /// cleanup deletes snapshots with the blob.
    /// </summary>
    public Task<Uri> UploadSasAsync(string blobName, DateTimeOffset expiresOn, CancellationToken ct)
        => SasAsync(Uploads.GetBlobClient(blobName), BlobSasPermissions.Create, expiresOn, ct);

    /// <summary>A read-only URL for one blob (approved videos in the gallery).</summary>
    public Task<Uri> ReadSasAsync(string container, string blobName, DateTimeOffset expiresOn, CancellationToken ct)
        => SasAsync(storage.Container(container).GetBlobClient(blobName), BlobSasPermissions.Read, expiresOn, ct);

    private async Task<Uri> SasAsync(BlobClient blob, BlobSasPermissions permissions, DateTimeOffset expiresOn, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var sas = new BlobSasBuilder(permissions, expiresOn)
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            StartsOn = now.AddMinutes(-5), // clock skew between us and the storage service
        };
        if (blob.CanGenerateSasUri) return blob.GenerateSasUri(sas);

        var key = await DelegationKeyAsync(now, expiresOn, ct);
        return new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, storage.Blobs.AccountName) }.ToUri();
    }

    // One user-delegation key serves many SAS; fetch a new one when it would expire before the SAS does.
    private async Task<UserDelegationKey> DelegationKeyAsync(DateTimeOffset now, DateTimeOffset until, CancellationToken ct)
    {
        await _keyLock.WaitAsync(ct);
        try
        {
            if (_key is null || _key.SignedExpiresOn < until)
                _key = (await storage.Blobs.GetUserDelegationKeyAsync(now.AddMinutes(-5), until.AddHours(1) > now.AddDays(7) ? now.AddDays(7) : until.AddHours(1), ct)).Value;
            return _key;
        }
        finally { _keyLock.Release(); }
    }

    public string MediaUrl(string blobName)
    {
        var baseUrl = options.Value.MediaBaseUrl is { Length: > 0 } b ? b.TrimEnd('/') : Media.Uri.ToString().TrimEnd('/');
        return baseUrl + "/" + blobName;
    }

    /// <summary>Public URLs: only an entry that is published (approved, in the gallery) has them.</summary>
    public MediaUrls? PublicUrls(Entry e) => e.Media is { PublicToken: { } token } m
        ? new MediaUrls(MediaUrl(SubmissionRules.PublicName(e, token, ImagePipeline.Small)), MediaUrl(SubmissionRules.PublicName(e, token, ImagePipeline.Large)), m.Width, m.Height)
        : null;

    /// <summary>What the owner (or a moderator's preview) may see: the public URLs once published, else short-lived read URLs of the private derivatives.</summary>
    public async Task<MediaUrls?> PrivateUrlsAsync(Entry e, TimeSpan lifetime, CancellationToken ct)
    {
        if (PublicUrls(e) is { } published) return published;
        if (e.Media is not { } m) return null;
        var until = time.GetUtcNow().Add(lifetime);
        return new MediaUrls((await ReadSasAsync(DerivativesContainer, m.SmallBlob, until, ct)).ToString(),
            (await ReadSasAsync(DerivativesContainer, m.LargeBlob, until, ct)).ToString(), m.Width, m.Height);
    }

    /// <summary>
    /// Makes the public container agree with the entry: every public blob of the entry under another token than the
    /// current one is deleted (withdrawn), and the current token's derivatives are copied from the private container.
    /// Idempotent, so a repeated moderation call repairs a half-done earlier one.
    /// </summary>
    public async Task SyncPublicAsync(Entry e, CancellationToken ct)
    {
        var token = e.Media?.PublicToken;
        var keep = new HashSet<string>();
        if (e.Media is { } m && token is not null)
            foreach (var (box, source) in new[] { (ImagePipeline.Small, m.SmallBlob), (ImagePipeline.Large, m.LargeBlob) })
            {
                var name = SubmissionRules.PublicName(e, token, box);
                keep.Add(name);
                if (await Media.GetBlobClient(name).ExistsAsync(ct)) continue;
                var bytes = (await Derivatives.GetBlobClient(source).DownloadContentAsync(ct)).Value.Content;
                await Media.GetBlobClient(name).UploadAsync(bytes,
                    new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "image/jpeg", CacheControl = PublicCacheControl } }, ct);
            }
        await foreach (var blob in Media.GetBlobsAsync(BlobTraits.None, BlobStates.None, SubmissionRules.PublicPrefix(e), ct))
            if (!keep.Contains(blob.Name)) await Media.DeleteBlobIfExistsAsync(blob.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
    }

    /// <summary>Size and ETag of the fan's upload; null size when nothing was uploaded.</summary>
    public async Task<(long? Size, string? ETag)> ProbeUploadAsync(string blobName, CancellationToken ct)
    {
        try
        {
            var props = await Uploads.GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: ct);
            return (props.Value.ContentLength, props.Value.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, null); }
    }

    /// <summary>
    /// Copies the checked version (<paramref name="etag"/>) of the fan's upload to the server-owned originals container
    /// and returns the copy's size, first bytes and ETag: what is judged and processed is out of the fan's reach.
    /// </summary>
    public async Task<(long Size, byte[] Head, string ETag)> TakeUploadAsync(string uploadName, string originalName, string etag, CancellationToken ct)
    {
        var source = await ReadSasAsync(UploadsContainer, uploadName, time.GetUtcNow().AddMinutes(15), ct);
        var target = Originals.GetBlobClient(originalName);
        try
        {
            var copy = await target.StartCopyFromUriAsync(source, new BlobCopyFromUriOptions { SourceConditions = new BlobRequestConditions { IfMatch = new ETag(etag) } }, ct);
            await copy.WaitForCompletionAsync(ct);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            throw new ProblemException(ApiProblem.Conflict("upload_changed", "The file changed while it was checked; complete again."));
        }
        var props = (await target.GetPropertiesAsync(cancellationToken: ct)).Value;
        if (props.ContentLength == 0) return (0, [], props.ETag.ToString());
        var head = await target.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(0, ContentSniffer.HeaderBytes) }, ct);
        return (props.ContentLength, head.Value.Content.ToArray(), props.ETag.ToString());
    }

    /// <summary>The server's copy of the original as checked at completion; null when it is gone.</summary>
    /// <remarks>Returned as downloaded: a 12 MP photo is megabytes, and a copy of it would be one more large-object allocation.</remarks>
    public async Task<BinaryData?> DownloadOriginalAsync(string blobName, string? etag, CancellationToken ct)
    {
        var options = new BlobDownloadOptions { Conditions = etag is null ? null : new BlobRequestConditions { IfMatch = new ETag(etag) } };
        try { return (await Originals.GetBlobClient(blobName).DownloadContentAsync(options, ct)).Value.Content; }
        catch (RequestFailedException e) when (e.Status is 404 or 412) { return null; }
    }

    public Task DeleteOriginalAsync(string blobName, CancellationToken ct)
        => Originals.DeleteBlobIfExistsAsync(blobName, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);

    /// <summary>
    /// Deletes the fan's upload blob whatever the fan did to it: a lease is broken first (no lease id is needed to
    /// break one) and snapshots go with the blob. Missing is fine.
    /// </summary>
    public async Task DeleteUploadAsync(string blobName, CancellationToken ct)
    {
        var blob = Uploads.GetBlobClient(blobName);
        try { await blob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: ct); }
        catch (RequestFailedException e) when (e.Status is 404 or 409) { } // no blob, or no lease to break
        await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
    }

    /// <summary>Writes a private blob (derivatives, label files); public media is written by <see cref="SyncPublicAsync"/> only.</summary>
    public Task PutAsync(string container, string blobName, byte[] data, string contentType, CancellationToken ct)
        => storage.Container(container).GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(data),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, ct);

    public async Task<byte[]?> GetAsync(string container, string blobName, CancellationToken ct)
    {
        try { return (await storage.Container(container).GetBlobClient(blobName).DownloadContentAsync(ct)).Value.Content.ToArray(); }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
    }
}

/// <summary>
/// Local start: create the containers (derivatives readable anonymously, like a CDN origin) and allow browser
/// uploads (CORS PUT) on the Blob service. Service properties are read, CORS changed, then set back whole:
/// setting CORS alone is refused. In Azure, infrastructure owns both.
/// </summary>
internal sealed class MediaStorageSetup(StorageClients storage, IOptions<StorageOptions> storageOptions,
    IOptions<SubmissionsOptions> options, ILogger<MediaStorageSetup> logger) : IStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        if (!storageOptions.Value.CreateResources) return;
        // The containers themselves are created (private) by the storage initializer; derivatives are then opened to anonymous reads.
        await storage.Container(MediaStorage.MediaContainer).SetAccessPolicyAsync(PublicAccessType.Blob, cancellationToken: ct);

        var origins = options.Value.UploadCorsOrigins.Trim();
        if (origins.Length == 0) return;
        var props = (await storage.Blobs.GetPropertiesAsync(ct)).Value;
        props.Cors ??= [];
        var rule = new BlobCorsRule
        {
            AllowedOrigins = origins,
            AllowedMethods = "PUT,OPTIONS",
            AllowedHeaders = "content-type,content-length,x-ms-blob-type,x-ms-blob-content-type,x-ms-version,x-ms-client-request-id,x-ms-date",
            ExposedHeaders = "etag,x-ms-request-id",
            MaxAgeInSeconds = 3600,
        };
        if (props.Cors.Any(r => r.AllowedOrigins == rule.AllowedOrigins && r.AllowedMethods == rule.AllowedMethods && r.AllowedHeaders == rule.AllowedHeaders)) return;
        props.Cors = props.Cors.Where(r => r.AllowedOrigins != rule.AllowedOrigins || !r.AllowedMethods.Contains("PUT")).Append(rule).ToList();
        await storage.Blobs.SetPropertiesAsync(props, ct);
        logger.LogInformation("Blob CORS allows browser uploads from {Origins}", origins);
    }
}
