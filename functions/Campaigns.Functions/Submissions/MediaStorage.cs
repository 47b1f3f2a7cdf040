using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Submissions;

/// <summary>
/// Blob containers of the capability and the SAS it issues. Originals ("submission-uploads") are private;
/// display derivatives live in their own container ("submission-media"), the only one served to the public.
/// With a shared key (Azurite, connection strings) SAS are signed with the account key; in Azure, where shared
/// keys are disabled and the app runs as a managed identity, the same method signs with a user-delegation key.
/// </summary>
public sealed class MediaStorage(StorageClients storage, IOptions<SubmissionsOptions> options, TimeProvider time)
{
    public const string UploadsContainer = "submission-uploads";
    public const string MediaContainer = "submission-media";
    public const string PreviewsContainer = "label-previews";
    public const string PrintContainer = "label-print";
    public const string TemplatesContainer = "label-templates";

    private readonly SemaphoreSlim _keyLock = new(1, 1);
    private UserDelegationKey? _key;

    public BlobContainerClient Uploads => storage.Container(UploadsContainer);
    public BlobContainerClient Media => storage.Container(MediaContainer);
    public BlobContainerClient Container(string name) => storage.Container(name);

    /// <summary>A URL that lets the holder create/write exactly this one blob until <paramref name="expiresOn"/>; no read, no list, no delete.</summary>
    public Task<Uri> UploadSasAsync(string blobName, DateTimeOffset expiresOn, CancellationToken ct)
        => SasAsync(Uploads.GetBlobClient(blobName), BlobSasPermissions.Create | BlobSasPermissions.Write, expiresOn, ct);

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

    public MediaUrls? Urls(Entry e) => e.Media is { } m ? new MediaUrls(MediaUrl(m.SmallBlob), MediaUrl(m.LargeBlob), m.Width, m.Height) : null;

    /// <summary>Size and first bytes of an uploaded original; null size when nothing was uploaded.</summary>
    public async Task<(long? Size, byte[] Head, string? ETag)> ProbeUploadAsync(string blobName, CancellationToken ct)
    {
        var blob = Uploads.GetBlobClient(blobName);
        try
        {
            var props = await blob.GetPropertiesAsync(cancellationToken: ct);
            if (props.Value.ContentLength == 0) return (0, [], props.Value.ETag.ToString());
            // The head is read from the same version whose size was checked.
            var head = await blob.DownloadContentAsync(new BlobDownloadOptions
            {
                Range = new HttpRange(0, ContentSniffer.HeaderBytes),
                Conditions = new BlobRequestConditions { IfMatch = props.Value.ETag },
            }, ct);
            return (props.Value.ContentLength, head.Value.Content.ToArray(), props.Value.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, [], null); }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            throw new ProblemException(ApiProblem.Conflict("upload_changed", "The file changed while it was checked; complete again."));
        }
    }

    /// <summary>The original as it was checked at completion; null when it is gone or was overwritten since.</summary>
    /// <remarks>Returned as downloaded: a 12 MP photo is megabytes, and a copy of it would be one more large-object allocation.</remarks>
    public async Task<BinaryData?> DownloadOriginalAsync(string blobName, string? etag, CancellationToken ct)
    {
        var options = new BlobDownloadOptions { Conditions = etag is null ? null : new BlobRequestConditions { IfMatch = new ETag(etag) } };
        try { return (await Uploads.GetBlobClient(blobName).DownloadContentAsync(options, ct)).Value.Content; }
        catch (RequestFailedException e) when (e.Status is 404 or 412) { return null; }
    }

    public Task DeleteOriginalAsync(string blobName, CancellationToken ct) => Uploads.GetBlobClient(blobName).DeleteIfExistsAsync(cancellationToken: ct);

    public Task PutAsync(string container, string blobName, byte[] data, string contentType, CancellationToken ct)
        => storage.Container(container).GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(data),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType, CacheControl = "public, max-age=31536000, immutable" } }, ct);

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
