using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Campaigns.Submissions;
using Microsoft.AspNetCore.Http.Features;

namespace Campaigns.Labels;

public static class LabelsApi
{
    private const long MaxBackgroundBytes = 10 * 1024 * 1024, MaxCsvBytes = 4 * 1024 * 1024;

    public sealed record PreviewInput(string Text);

    public static void Map(WebApplication app)
    {
        var g = app.MapGroup("/api/campaigns/{campaignId}").WithTags("Labels");

        g.MapPut("/label-template", async (string campaignId, LabelTemplateInput input, LabelService labels, CampaignStore campaigns, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId) || await campaigns.GetAsync(campaignId, ct) is null)
                return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var errors = LabelRenderer.Validate(input);
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            return Results.Ok(await labels.SaveTemplateAsync(campaignId, input, ct));
        }).Requires(Powers.LabelsDesign).WithSummary("Create or replace the campaign's label template.");

        g.MapPut("/label-template/background", async (string campaignId, HttpContext http, LabelService labels, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var body = await ReadBodyAsync(http, MaxBackgroundBytes, ct);
            return Results.Ok(await labels.SaveBackgroundAsync(campaignId, body, ct));
        }).Requires(Powers.LabelsDesign).WithSummary("Upload the label's background image (JPEG, PNG or WebP body, ≤ 10 MiB).");

        g.MapGet("/label-template", async (string campaignId, LabelService labels, CancellationToken ct) =>
            CampaignRules.IdPattern().IsMatch(campaignId) && await labels.TemplateAsync(campaignId, ct) is { } t
                ? Results.Ok(t) : ApiProblem.NotFound("label_template_missing", "The label template").ToResult())
            .RequireAuthorization(Policies.Fan).WithSummary("The label template (size, text box, colours) for the personalisation page.");

        g.MapPost("/labels/preview", async (string campaignId, PreviewInput input, LabelService labels, SubmissionService submissions,
            CampaignStore campaigns, Microsoft.Extensions.Options.IOptions<SubmissionsOptions> options, MinuteRateLimiter limiter, ClaimsPrincipal user,
            TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            // Each uncached preview renders an image: a per-fan limit keeps one script from taking the instance's CPU.
            if (!limiter.TryAcquire("label-preview|" + user.Subject(), options.Value.PreviewsPerMinute)) return RateLimitProblems.RateLimited(http);
            var campaign = CampaignRules.IdPattern().IsMatch(campaignId) ? await campaigns.GetCachedAsync(campaignId, ct) : null;
            if (campaign is null || !campaign.IsVisibleToPublic(time.GetUtcNow())) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            if (await labels.TemplateAsync(campaignId, ct) is not { } template)
                return ApiProblem.Conflict("label_template_missing", "This campaign has no label template yet.").ToResult();
            var text = SubmissionRules.Clean(input.Text) ?? "";
            var max = options.Value.LabelMaxChars;
            if (text.Length == 0) return ApiProblem.Validation("text", "Required.", "label_text_empty").ToResult();
            if (text.Length > max) return ApiProblem.Validation("text", $"At most {max} characters.", "label_text_too_long").ToResult();
            var verdict = submissions.CheckText(text, campaign.Locales.FirstOrDefault(), await submissions.SettingsAsync(campaignId, ct), multiline: false);
            if (verdict.Outcome == SafetyOutcomes.Reject)
                return new ApiProblem(422, "text_rejected", "This text cannot be printed.", verdict.Message,
                    new Dictionary<string, string[]> { ["reason"] = [verdict.Category ?? "text"] }).ToResult();
            var (png, key) = await labels.PreviewAsync(campaignId, template, text, ct);
            http.Response.Headers.CacheControl = "private, max-age=3600";
            http.Response.Headers.ETag = $"\"{key}\"";
            return Results.File(png, "image/png");
        }).RequireAuthorization(Policies.Fan).WithSummary("Render the fan's text on the label (PNG). Text is literal; offensive text is refused.");

        g.MapPost("/print-batches", async (string campaignId, LabelService labels, ClaimsPrincipal user, HttpRequest http, CancellationToken ct) =>
        {
            var key = IdempotencyKeys.Read(http);
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var batch = await labels.CreateBatchAsync(campaignId, user.Subject(), ct, key);
            return batch is null
                ? ApiProblem.Conflict("nothing_to_print", "No approved labels are waiting for a print batch.").ToResult()
                : Results.Created($"/api/campaigns/{campaignId}/print-batches/{batch.BatchId}", batch);
        }).Requires(Powers.LabelsFulfil).WithSummary("Create a print batch now: CSV manifest + print-ready images in Blob. With an Idempotency-Key a retry answers with the same batch.");

        g.MapGet("/print-batches", async (string campaignId, int? pageSize, string? continuation, LabelService labels, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var page = await labels.BatchesAsync(campaignId, pageSize, continuation, ct);
            return Results.Ok(new ListPage<PrintBatchView>(page.Items.Select(b => new PrintBatchView(b.BatchId, b.CreatedAt, b.Actor, b.Count, b.ManifestBlob)).ToList(),
                page.Continuation));
        }).Requires(Powers.LabelsRead).WithSummary("The campaign's ready print batches, paged (a page may be short: batches still being made are left out).");

        g.MapGet("/print-batches/{batchId}/manifest", async (string campaignId, string batchId, LabelService labels, MediaStorage media, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId) || batchId.Length > 40 || !batchId.All(char.IsAsciiLetterOrDigit))
                return ApiProblem.NotFound("batch_not_found", "The print batch").ToResult();
            var csv = await media.GetAsync(MediaStorage.PrintContainer, $"{campaignId}/{batchId}/manifest.csv", ct);
            return csv is null ? ApiProblem.NotFound("batch_not_found", "The print batch").ToResult() : Results.File(csv, "text/csv; charset=utf-8", $"{batchId}.csv");
        }).Requires(Powers.LabelsFulfil).WithSummary("Download a print batch's CSV manifest.");

        g.MapPost("/shipments", async (string campaignId, HttpContext http, LabelService labels, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            if (http.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) != true)
                return new ApiProblem(415, "unsupported_media_type", "Send the shipments as text/csv.").ToResult();
            var body = await ReadBodyAsync(http, MaxCsvBytes, ct);
            string text;
            try { text = new System.Text.UTF8Encoding(false, true).GetString(body); }
            catch (System.Text.DecoderFallbackException) { return ApiProblem.Validation("csv", "Not UTF-8 text.", "invalid_csv").ToResult(); }
            var (updated, errors) = await labels.ImportShipmentsAsync(campaignId, text, ct);
            return Results.Ok(new { updated, errors });
        }).Requires(Powers.LabelsFulfil).WithSummary("Import carrier and tracking numbers (CSV: entry_id,carrier,tracking_number); orders become shipped.");
    }

    /// <summary>Reads a raw body larger than the JSON limit, for the few endpoints that take files.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContext http, long max, CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } f) f.MaxRequestBodySize = max;
        if (http.Request.ContentLength > max) throw new ProblemException(new ApiProblem(413, "body_too_large", "The body is too large.", $"At most {max} bytes."));
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await http.Request.Body.ReadAsync(buffer, ct)) > 0)
        {
            ms.Write(buffer, 0, read);
            if (ms.Length > max) throw new ProblemException(new ApiProblem(413, "body_too_large", "The body is too large.", $"At most {max} bytes."));
        }
        return ms.ToArray();
    }
}

public sealed record PrintBatchView(string BatchId, DateTimeOffset CreatedAt, string Actor, int Count, string ManifestBlob);
