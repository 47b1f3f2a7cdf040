using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Submissions;
using Microsoft.Extensions.Options;

namespace Campaigns.Labels;

/// <summary>A print batch. <c>Claiming</c> while its labels are being claimed; <c>Ready</c> once its manifest is written.</summary>
/// <summary>The batch an Idempotency-Key's request made.</summary>
public sealed record BatchKey(string BatchId, DateTimeOffset At);

public sealed record PrintBatch(string CampaignId, string BatchId, DateTimeOffset CreatedAt, string Actor, int Count,
    string ManifestBlob, string[] EntryIds, string Status = PrintBatch.Ready)
{
    public const string Claiming = "claiming", Ready = "ready";
}

public sealed record ShipmentError(int Line, string Code, string Message);

/// <summary>Label templates, cached previews, print batches (CSV manifest + print images) and shipment import.</summary>
public sealed partial class LabelService(SubmissionStore store, MediaStorage media, IOptions<SubmissionsOptions> options,
    TimeProvider time, ILogger<LabelService> logger)
{
    private const string TemplateRow = "label-template";

    [GeneratedRegex("^[A-Za-z0-9-]{4,60}$")] private static partial Regex TrackingPattern();
    [GeneratedRegex(@"^[\p{L}\p{N} .&-]{2,40}$")] private static partial Regex CarrierPattern();

    public Task<LabelTemplate?> TemplateAsync(string campaignId, CancellationToken ct)
        => store.GetDocAsync<LabelTemplate>(SubmissionStore.SettingsPartition(campaignId), TemplateRow, ct);

    public async Task<LabelTemplate> SaveTemplateAsync(string campaignId, LabelTemplateInput input, CancellationToken ct)
    {
        var current = await TemplateAsync(campaignId, ct);
        var t = new LabelTemplate(input.Width, input.Height, input.BackgroundColor.ToUpperInvariant(), input.TextColor.ToUpperInvariant(), input.Box,
            input.MaxFontPoints, current?.BackgroundBlob, (current?.Version ?? 0) + 1, input.PrintScale);
        await store.PutDocAsync(SubmissionStore.SettingsPartition(campaignId), TemplateRow, t, ct);
        await store.MarkRowAsync(SubmissionStore.LabelCampaignsPartition, campaignId, ct);
        return t;
    }

    /// <summary>Stores a background image (checked like uploads: sniffed, header-probed, decoded) and bumps the template version.</summary>
    public async Task<LabelTemplate> SaveBackgroundAsync(string campaignId, byte[] image, CancellationToken ct)
    {
        var current = await TemplateAsync(campaignId, ct) ?? throw new ProblemException(ApiProblem.Conflict("label_template_missing", "Create the template first."));
        var check = ImagePipeline.Process(image, ImageLimits.From(options.Value));
        if (!check.Ok) throw new ProblemException(new ApiProblem(422, check.ReasonCode!, "The background image was refused.", check.ReasonText));
        var blob = $"{campaignId}/background-{current.Version + 1}";
        await media.PutAsync(MediaStorage.TemplatesContainer, blob, image, ContentSniffer.Sniff(image)!, ct);
        var next = current with { BackgroundBlob = blob, Version = current.Version + 1 };
        await store.PutDocAsync(SubmissionStore.SettingsPartition(campaignId), TemplateRow, next, ct);
        return next;
    }

    private Task<byte[]?> BackgroundAsync(LabelTemplate t, CancellationToken ct)
        => t.BackgroundBlob is null ? Task.FromResult<byte[]?>(null) : media.GetAsync(MediaStorage.TemplatesContainer, t.BackgroundBlob, ct);

    /// <summary>The preview PNG and its cache key; rendered once per template version and text, then served from Blob.</summary>
    public async Task<(byte[] Png, string Key)> PreviewAsync(string campaignId, LabelTemplate t, string text, CancellationToken ct)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{t.Version}\n{text}")));
        var blob = $"{campaignId}/{key}.png";
        if (await media.GetAsync(MediaStorage.PreviewsContainer, blob, ct) is { } cached) return (cached, key);
        var png = LabelRenderer.Render(t, await BackgroundAsync(t, ct), text);
        await media.PutAsync(MediaStorage.PreviewsContainer, blob, png, "image/png", ct);
        return (png, key);
    }

    /// <summary>
    /// Builds a batch from approved labels not yet batched. Labels are claimed first, each by an ETag-guarded write
    /// that only one batch can win, so two batches started together never print the same label. The batch is announced
    /// (status <c>claiming</c>, with its candidates) before any claim, so a crash after claiming leaves a record the
    /// next run finishes instead of labels held by a batch nobody prints.
    /// </summary>
    /// <summary>
    /// Claims up to a batch of waiting labels and renders them. With an Idempotency-Key the request's batch is recorded
    /// before anything is claimed, so a retry answers with that batch (finishing it if the first request stopped)
    /// instead of claiming the next labels into a second one.
    /// </summary>
    public async Task<PrintBatch?> CreateBatchAsync(string campaignId, string actor, CancellationToken ct, string? idempotencyKey = null)
    {
        var template = await TemplateAsync(campaignId, ct);
        if (template is null) return null;
        var keyRow = idempotencyKey is null ? null : IdempotencyKeys.Id(idempotencyKey, 32, "print-batch", campaignId);
        string? batchId = null;
        if (keyRow is not null && await store.GetDocAsync<BatchKey>(SubmissionStore.BatchKeyPartition(campaignId), keyRow, ct) is { } known)
        {
            var made = await store.GetDocAsync<PrintBatch>(SubmissionStore.BatchPartition(campaignId), known.BatchId, ct);
            if (made is { Status: PrintBatch.Ready }) return made;
            if (made is { Status: PrintBatch.Claiming }) return await FinishAsync(made, template, ct);
            batchId = known.BatchId; // recorded, then stopped (or found nothing): this request makes it
        }
        await FinishAbandonedAsync(campaignId, template, ct);
        var ids = await store.RowKeysAsync(SubmissionStore.LabelQueuePartition(campaignId), options.Value.PrintBatchSize, ct);
        if (ids.Count == 0) return null;
        var now = time.GetUtcNow();
        if (batchId is null)
        {
            batchId = "b" + now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            if (keyRow is not null && !await store.TryAddDocAsync(SubmissionStore.BatchKeyPartition(campaignId), keyRow, new BatchKey(batchId, now), ct))
                throw new ProblemException(ApiProblem.Conflict("request_in_progress", "A request with this Idempotency-Key is being handled; send it again in a moment."));
        }
        var pending = new PrintBatch(campaignId, batchId, now, actor, 0, "", ids.ToArray(), PrintBatch.Claiming);
        await store.PutDocAsync(SubmissionStore.BatchPartition(campaignId), batchId, pending, ct);
        foreach (var id in ids)
        {
            var claimed = await store.UpdateAsync(campaignId, id, e => Printable(e) && e.Order?.BatchId is null
                ? e with { Order = (e.Order ?? new LabelOrder()) with { BatchId = batchId, BatchedAt = now }, UpdatedAt = now }
                : null, ct);
            // Listed as waiting but not claimable: its waiting row is stale (a process died after writing the entry and
            // before its copies). Left alone it would come back in every run and take a place in every batch.
            if (claimed is not null && claimed.Order?.BatchId != batchId) await store.RepairCopiesAsync(claimed, ct);
        }
        return await FinishAsync(pending, template, ct);
    }

    private static bool Printable(Entry e) => e.Kind == Kinds.Label && (e.InGallery || e.Status == Statuses.Approved) && !e.OwnerHidden;

    /// <summary>Renders and lists the candidates this batch won; idempotent (same names), so a re-run after a crash is safe.</summary>
    private async Task<PrintBatch?> FinishAsync(PrintBatch pending, LabelTemplate template, CancellationToken ct)
    {
        var (campaignId, batchId) = (pending.CampaignId, pending.BatchId);
        var background = await BackgroundAsync(template, ct);
        var csv = new StringBuilder("entry_id,fan_id,locale,text,image,submitted_at\r\n");
        var included = new List<string>();
        foreach (var id in pending.EntryIds)
        {
            if (await store.GetAsync(campaignId, id, ct) is not { } found || found.Entry.Order?.BatchId != batchId) continue;
            var e = found.Entry;
            var image = $"{campaignId}/{batchId}/{e.EntryId}.png";
            var png = LabelRenderer.Render(template, background, e.Text ?? "", template.PrintScale);
            await media.PutAsync(MediaStorage.PrintContainer, image, png, "image/png", ct);
            csv.Append(Csv(e.EntryId)).Append(',').Append(Csv(e.OwnerFanId)).Append(',').Append(Csv(e.Locale ?? "")).Append(',')
               .Append(Csv(e.Text ?? "")).Append(',').Append(Csv(image)).Append(',')
               .Append((e.SubmittedAt ?? e.CreatedAt).ToString("O", CultureInfo.InvariantCulture)).Append("\r\n");
            included.Add(e.EntryId);
        }
        if (included.Count == 0)
        {
            await store.DeleteSlotRowAsync(SubmissionStore.BatchPartition(campaignId), batchId, ct);
            return null;
        }
        var manifest = $"{campaignId}/{batchId}/manifest.csv";
        await media.PutAsync(MediaStorage.PrintContainer, manifest, Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(csv.ToString())).ToArray(), "text/csv; charset=utf-8", ct);
        var batch = pending with { Count = included.Count, ManifestBlob = manifest, EntryIds = included.ToArray(), Status = PrintBatch.Ready };
        await store.PutDocAsync(SubmissionStore.BatchPartition(campaignId), batchId, batch, ct);
        logger.LogInformation("Print batch {BatchId} for {CampaignId}: {Count} labels", batchId, campaignId, included.Count);
        return batch;
    }

    /// <summary>Batches still claiming after the abandon time belong to a run that stopped: finish them.</summary>
    private async Task FinishAbandonedAsync(string campaignId, LabelTemplate template, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        // Every batch, not the first thousand: 350,000 labels make 700 batches of 500, and a stopped run can be any of them.
        foreach (var b in await store.DocsAsync<PrintBatch>(SubmissionStore.BatchPartition(campaignId), int.MaxValue, ct))
            if (b.Status == PrintBatch.Claiming && now - b.CreatedAt > AbandonedAfter) await FinishAsync(b, template, ct);
    }

    /// <summary>Far longer than a batch of 500 takes to claim and render, so a batch still running is never finished twice.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(15);

    /// <summary>A page of the campaign's ready batches; batches still being claimed are left out, so a page may be short.</summary>
    public async Task<ListPage<PrintBatch>> BatchesAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
    {
        var page = await store.DocsPageAsync<PrintBatch>(SubmissionStore.BatchPartition(campaignId), pageSize, continuation, ct);
        return page with { Items = page.Items.Where(b => b.Status == PrintBatch.Ready).ToList() };
    }

    public async Task ScheduledBatchesAsync(CancellationToken ct)
    {
        foreach (var campaignId in await store.RowKeysAsync(SubmissionStore.LabelCampaignsPartition, 10_000, ct))
            await CreateBatchAsync(campaignId, "schedule", ct);
    }

    /// <summary>
    /// A cell for the manifest: quoted, and a leading = + - @ (spreadsheet formula) neutralised with an apostrophe,
    /// since fan text ends up in a print shop's spreadsheet.
    /// </summary>
    public static string Csv(string value)
    {
        var v = value.Length > 0 && "=+-@\t\r".Contains(value[0]) ? "'" + value : value;
        return "\"" + v.Replace("\"", "\"\"") + "\"";
    }

    /// <summary>Imports "entry_id,carrier,tracking_number" lines: each order in a print batch becomes shipped. Idempotent.</summary>
    public async Task<(int Updated, List<ShipmentError> Errors)> ImportShipmentsAsync(string campaignId, string csv, CancellationToken ct)
    {
        var errors = new List<ShipmentError>();
        var updated = 0;
        var lines = csv.Replace("\r\n", "\n").Split('\n');
        if (lines.Length == 0 || !lines[0].Trim().TrimStart('\uFEFF').Equals("entry_id,carrier,tracking_number", StringComparison.OrdinalIgnoreCase))
            throw new ProblemException(ApiProblem.Validation("csv", "The first line must be: entry_id,carrier,tracking_number", "invalid_csv"));
        if (lines.Length > 20_001) throw new ProblemException(ApiProblem.Validation("csv", "At most 20000 lines per import.", "invalid_csv"));
        var now = time.GetUtcNow();
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            var cells = line.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
            if (cells.Length != 3) { errors.Add(new(i + 1, "bad_line", "Expected 3 columns.")); continue; }
            var (entryId, carrier, tracking) = (cells[0], cells[1], cells[2]);
            if (!SubmissionRules.EntryIdPattern().IsMatch(entryId)) { errors.Add(new(i + 1, "bad_entry_id", "Not an entry id.")); continue; }
            if (!CarrierPattern().IsMatch(carrier)) { errors.Add(new(i + 1, "bad_carrier", "2–40 letters, digits, spaces.")); continue; }
            if (!TrackingPattern().IsMatch(tracking)) { errors.Add(new(i + 1, "bad_tracking_number", "4–60 letters, digits or hyphens.")); continue; }
            string? refused = null;
            var result = await store.UpdateAsync(campaignId, entryId, e =>
            {
                if (e.Kind != Kinds.Label) { refused = "not_a_label"; return null; }
                if (e.Order?.BatchId is null) { refused = "not_in_print_batch"; return null; }
                if (e.Order.Carrier == carrier && e.Order.TrackingNumber == tracking) return null;
                return e with { Order = e.Order with { Carrier = carrier, TrackingNumber = tracking, ShippedAt = e.Order.ShippedAt ?? now }, UpdatedAt = now };
            }, ct);
            if (result is null) errors.Add(new(i + 1, "entry_not_found", "No such label order in this campaign."));
            else if (refused is not null) errors.Add(new(i + 1, refused, refused == "not_a_label" ? "The entry is not a label." : "The label is not in a print batch yet."));
            else updated++;
        }
        return (updated, errors);
    }
}
