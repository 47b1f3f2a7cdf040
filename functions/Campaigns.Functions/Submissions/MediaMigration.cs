using Azure.Storage.Blobs.Models;

namespace Campaigns.Submissions;

/// <summary>
/// Media stored before moderation kept them private: derivatives were written straight to the public container as
/// "{campaign}/{entry}/{box}.jpg", readable by anyone whatever the entry's status (a rejected photo's URL answered
/// 200). At start, each such blob is copied to the private derivatives container under the same name — the name the
/// entry's record already holds — then the entry is published again under a fresh token if it is shown, and the
/// public sync removes the old name. Safe to stop and run again: the old public names are the to-do list, and a
/// marker row ends the scan once none is left.
/// </summary>
internal sealed class MediaMigration(MediaStorage media, SubmissionStore store, ILogger<MediaMigration> logger) : IStartupTask
{
    public const string MarkerPartition = "migrations", MarkerRow = "media-private-derivatives";

    public sealed record Marker(DateTimeOffset At, int Moved);

    public async Task RunAsync(CancellationToken ct)
    {
        if (await store.GetDocAsync<Marker>(MarkerPartition, MarkerRow, ct) is not null) return;
        var moved = 0;
        var entries = new HashSet<(string Campaign, string Entry)>();
        await foreach (var blob in media.Media.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, ct))
        {
            // Current public names carry a token segment: {campaign}/{entry}/{token}/{box}.jpg.
            var parts = blob.Name.Split('/');
            if (parts.Length != 3) continue;
            var target = media.Derivatives.GetBlobClient(blob.Name);
            if (!await target.ExistsAsync(ct))
            {
                var bytes = (await media.Media.GetBlobClient(blob.Name).DownloadContentAsync(ct)).Value.Content;
                await target.UploadAsync(bytes, new Azure.Storage.Blobs.Models.BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = blob.Properties.ContentType ?? "image/jpeg" },
                }, ct);
            }
            entries.Add((parts[0], parts[1]));
            moved++;
        }
        foreach (var (campaignId, entryId) in entries)
        {
            var token = SubmissionService.NewPublicToken();
            if (await store.UpdateAsync(campaignId, entryId, e => SubmissionRules.Published(e, token), ct) is { } entry)
                await media.SyncPublicAsync(entry, ct);
            else
                // No record (deleted): nothing may stay public under its name.
                await foreach (var b in media.Media.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{campaignId}/{entryId}/", ct))
                    await media.Media.DeleteBlobIfExistsAsync(b.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
        }
        await store.PutDocAsync(MarkerPartition, MarkerRow, new Marker(DateTimeOffset.UtcNow, moved), ct);
        if (moved > 0) logger.LogInformation("Moved {Count} public derivatives of {Entries} entries to private storage", moved, entries.Count);
    }
}
