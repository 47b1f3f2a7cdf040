using System.Net;
using System.Security.Claims;
using Azure;
using Campaigns.Campaigns;
using Campaigns.Fans;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.Submissions;

public static class SubmissionsApi
{
    public const string ImagesQueue = "submission-images";
    public const string ProcessImageFunction = "SubmissionProcessImage";
    public const string SlotCleanupFunction = "SubmissionSlotCleanup";
    public const string PrintBatchFunction = "LabelPrintBatches";

    public sealed record ImageMessage(string CampaignId, string EntryId);

    public static void AddSubmissions(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<SubmissionsOptions>().Bind(builder.Configuration.GetSection("Submissions")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<SubmissionsOptions>, SubmissionsOptionsValidator>();
        s.AddTable(SubmissionStore.TableName);
        foreach (var c in new[] { MediaStorage.UploadsContainer, MediaStorage.OriginalsContainer, MediaStorage.DerivativesContainer, MediaStorage.MediaContainer, MediaStorage.PreviewsContainer, MediaStorage.PrintContainer, MediaStorage.TemplatesContainer })
            s.AddContainer(c);
        s.AddSingleton(_ => TextSafety.Bundled);
        s.AddSingleton<SubmissionStore>();
        s.AddSingleton<MediaStorage>();
        s.AddSingleton<SubmissionService>();
        s.AddSingleton<Labels.LabelService>();
        s.AddSingleton<IEntryDirectory>(sp => sp.GetRequiredService<SubmissionService>());
        s.AddSingleton<IEntryModeration>(sp => sp.GetRequiredService<SubmissionService>());
        s.AddSingleton<IPublicDisplay>(sp => sp.GetRequiredService<SubmissionService>());
        s.AddSingleton<IStartupTask, MediaStorageSetup>();
        s.AddSingleton<IStartupTask, MediaMigration>();
        s.AddSingleton<IStartupTask, ImagePipelineSetup>();
        // The queue name is a setting read raw when the catalog is built, after every configuration source is added.
        s.AddSingleton(sp => new FunctionDefinition(ProcessImageFunction,
            new QueueTrigger(sp.GetRequiredService<IConfiguration>()["Submissions:ImagesQueue"] is { Length: > 0 } q ? q : ImagesQueue),
            async inv =>
            {
                await inv.Service<SubmissionService>().ProcessImageAsync(inv.QueueMessage<ImageMessage>(JsonDefaults.Options), inv.Cancellation);
                return null;
            }));
        s.AddTimerFunction(SlotCleanupFunction, "0 */5 * * * *", inv => inv.Service<SubmissionService>().ExpireSlotsAsync(inv.Cancellation));
        s.AddTimerFunction(PrintBatchFunction, builder.Configuration["Submissions:PrintBatchSchedule"] ?? new SubmissionsOptions().PrintBatchSchedule,
            inv => inv.Service<Labels.LabelService>().ScheduledBatchesAsync(inv.Cancellation));
    }

    public static void MapSubmissions(this WebApplication app)
    {
        var fan = app.MapGroup("/api/campaigns/{campaignId}").WithTags("Submissions").RequireAuthorization(Policies.Fan);

        fan.MapPost("/submissions", async (string campaignId, SubmissionInput input, ClaimsPrincipal user, HttpRequest http, SubmissionService service, CancellationToken ct) =>
        {
            var key = IdempotencyKeys.Read(http);
            var (entry, upload) = await service.SubmitAsync(campaignId, user.Subject(), FanEligibility.FromClaims(user), input, ct, key);
            return Results.Created($"/api/me/submissions/{campaignId}/{entry.EntryId}", new { submission = entry, upload });
        }).WithSummary("Submit a story, photo, video or label with consent; media kinds get a short-lived upload URL for one blob. "
            + "With an Idempotency-Key a retry answers with the entry the first request created.");

        fan.MapPost("/submissions/{entryId}/complete", async (string campaignId, string entryId, ClaimsPrincipal user, SubmissionService service, CancellationToken ct)
            => Results.Accepted($"/api/me/submissions/{campaignId}/{entryId}", await service.CompleteAsync(campaignId, entryId, user.Subject(), ct)))
            .WithSummary("After the browser uploaded: check the blob (exists, size, type by its bytes) and queue processing.");

        var me = app.MapGroup("/api/me").WithTags("Submissions").RequireAuthorization(Policies.Fan);
        me.MapGet("/submissions", async (ClaimsPrincipal user, SubmissionService service, string? campaignId, int? pageSize, string? continuation, CancellationToken ct) =>
        {
            if (campaignId is not null && !CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.Validation("campaignId", "Not a campaign id.").ToResult();
            var (items, next) = await service.Store.ListOwnAsync(user.Subject(), campaignId, Math.Clamp(pageSize ?? 50, 1, 200), continuation, ct);
            var views = new List<OwnEntryView>();
            foreach (var e in items) views.Add(await service.OwnViewAsync(e, ct));
            return Results.Ok(new { items = views, continuation = next });
        }).WithSummary("The caller's own submissions with status and reason; media not yet public through short-lived read URLs.");

        me.MapGet("/submissions/{campaignId}/{entryId}", async (string campaignId, string entryId, ClaimsPrincipal user, SubmissionService service, CancellationToken ct) =>
            await service.GetOwnAsync(campaignId, entryId, user.Subject(), ct) is { } e
                ? Results.Ok(await service.OwnViewAsync(e, ct))
                : ApiProblem.NotFound("submission_not_found", "The submission").ToResult())
            .WithSummary("One of the caller's submissions (someone else's reads as not found); pending media through short-lived read URLs.");

        me.MapGet("/label-orders", async (ClaimsPrincipal user, SubmissionService service, string? campaignId, int? pageSize, string? continuation, CancellationToken ct) =>
        {
            if (campaignId is not null && !CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.Validation("campaignId", "Not a campaign id.").ToResult();
            var (items, next) = await service.Store.ListOwnAsync(user.Subject(), campaignId, Math.Clamp(pageSize ?? 50, 1, 200), continuation, ct);
            return Results.Ok(new
            {
                items = items.Where(e => e.Kind == Kinds.Label).Select(e => new
                {
                    e.CampaignId, e.EntryId, e.Text, status = e.OrderStatus, e.ReasonCode, e.ReasonText, submittedAt = e.SubmittedAt,
                    e.Order?.BatchId, e.Order?.Carrier, e.Order?.TrackingNumber, e.Order?.ShippedAt,
                }),
                continuation = next,
            });
        }).WithSummary("Where is my label? The caller's label orders with status, carrier and tracking number.");

        var pub = app.MapGroup("/api/public/campaigns/{campaignId}").WithTags("Public").Public();
        pub.MapGet("/gallery", async (string campaignId, SubmissionService service, CampaignStore campaigns, TimeProvider time, HttpContext http,
            int? pageSize, string? continuation, string? order, string? round, IServiceProvider services, CancellationToken ct) =>
        {
            if (await campaigns.GetCachedAsync(campaignId, ct) is not { } c || !c.IsVisibleToPublic(time.GetUtcNow()))
                return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var size = Math.Clamp(pageSize ?? 24, 1, 100);
            http.Response.Headers.CacheControl = "public, max-age=15";
            if (order is null or "newest")
            {
                var (items, next) = await service.Store.GalleryAsync(campaignId, size, continuation, ct);
                return Results.Ok(new { items = items.Select(service.GalleryView), continuation = next });
            }
            if (order != "votes") return ApiProblem.Validation("order", "Use 'newest' or 'votes'.").ToResult();
            // By votes only from revealed (frozen, signed) counts: while a round is open no ordering may leak a count.
            if (round is null || !Voting.VoteRules.IdPattern().IsMatch(round)) return ApiProblem.Validation("round", "Name the entry-voting round whose revealed results order the gallery.").ToResult();
            var revealed = services.GetService<IRevealedResults>() is { } results ? await results.GetRevealedAsync(campaignId, round, ct) : null;
            if (revealed is null)
                return new ApiProblem(409, "results_not_revealed", "The gallery can be ordered by votes once the round's results are revealed.").ToResult();
            var offset = 0;
            if (continuation is not null && (!int.TryParse(continuation, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset) || offset < 0))
                return ApiProblem.Validation("continuation", "Not a continuation token of this listing.").ToResult();
            var votes = revealed.Counts.Where(x => x.CategoryId == RevealedTally.EntriesCategory).ToDictionary(x => x.OptionId, x => x.Count);
            var ranked = await service.RankedGalleryAsync(campaignId, revealed, ct);
            var page = ranked.Skip(offset).Take(size).ToList();
            var more = offset + page.Count < ranked.Count;
            return Results.Ok(new
            {
                items = page.Select(service.GalleryView),
                votes = page.ToDictionary(e => e.EntryId, e => votes.GetValueOrDefault(e.EntryId)),
                continuation = more ? (offset + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            });
        }).WithSummary("Approved entries with public fields and derivative URLs: newest first, or by revealed votes (order=votes&round=…); page with the continuation token.");

        var staff = app.MapGroup("/api/campaigns/{campaignId}/submission-settings").WithTags("Submissions");
        staff.MapPut("/", async (string campaignId, SubmissionSettings input, SubmissionService service, CancellationToken ct) =>
        {
            if (!CampaignRules.IdPattern().IsMatch(campaignId)) return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var errors = new Dictionary<string, string[]>();
            if (input.ForbiddenNames is null || input.ForbiddenNames.Length > 1000 || input.ForbiddenNames.Any(n => string.IsNullOrWhiteSpace(n) || n.Length > 100))
                errors["forbiddenNames"] = ["At most 1000 names of 1–100 characters."];
            if (input.BrandTerms is null || input.BrandTerms.Length > 200 || input.BrandTerms.Any(n => string.IsNullOrWhiteSpace(n) || n.Length > 100))
                errors["brandTerms"] = ["At most 200 terms of 1–100 characters."];
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            await service.Store.PutDocAsync(SubmissionStore.SettingsPartition(campaignId), "settings", input, ct);
            return Results.Ok(input);
        }).Requires(Powers.SubmissionSettingsEdit).WithSummary("Set the campaign's forbidden names and extra brand-protected terms.");
        staff.MapGet("/", async (string campaignId, SubmissionService service, CancellationToken ct) =>
            Results.Ok(await service.SettingsAsync(campaignId, ct)))
            .Requires(Powers.SubmissionSettingsRead).WithSummary("The campaign's text-safety settings.");

        Labels.LabelsApi.Map(app);
    }
}

/// <summary>The capability's operations: trigger → pure decision(now) → store. Also the IEntryDirectory/IEntryModeration seams.</summary>
public sealed class SubmissionService(
    SubmissionStore store, MediaStorage media, CampaignStore campaigns, TextSafety safety, StorageClients storage,
    IOptions<SubmissionsOptions> options, TimeProvider time, IServiceProvider services, ILogger<SubmissionService> logger)
    : IEntryDirectory, IEntryModeration, IPublicDisplay
{
    private readonly SemaphoreSlim _imageSlots = new(Math.Clamp(options.Value.ImageConcurrency, 1, 64));
    // The by-votes gallery ranks every shown entry: built once per campaign and round per instance for as long as
    // the response may be cached anyway, not per request.
    private readonly TtlCache<List<Entry>> _rankedGallery = new(TimeSpan.FromSeconds(15), time);
    public SubmissionStore Store => store;

    /// <summary>The gallery's shown entries ordered by the revealed votes, as ranked at most 15 s ago.</summary>
    public async Task<List<Entry>> RankedGalleryAsync(string campaignId, RevealedTally revealed, CancellationToken ct)
        => (await _rankedGallery.GetAsync(campaignId + "|" + revealed.RoundId, async () =>
        {
            var votes = revealed.Counts.Where(x => x.CategoryId == RevealedTally.EntriesCategory).ToDictionary(x => x.OptionId, x => x.Count);
            var all = new List<Entry>();
            await foreach (var e in store.AllGalleryAsync(campaignId, CancellationToken.None)) all.Add(e);
            return SubmissionRules.ByVotes(all, votes).ToList();
        }))!;
    private SubmissionsOptions O => options.Value;
    private IReadOnlyCollection<string> GlobalBrandTerms => O.BrandTerms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public sealed record UploadTicket(Uri Url, string Method, IReadOnlyDictionary<string, string> Headers, DateTimeOffset ExpiresAt, long MaxBytes);

    public async Task<SubmissionSettings> SettingsAsync(string campaignId, CancellationToken ct)
        => CampaignRules.IdPattern().IsMatch(campaignId)
            ? await store.GetDocAsync<SubmissionSettings>(SubmissionStore.SettingsPartition(campaignId), "settings", ct) ?? SubmissionSettings.Empty
            : SubmissionSettings.Empty;

    public SafetyVerdict CheckText(string text, string? locale, SubmissionSettings settings, bool multiline)
        => safety.Check(text, locale, GlobalBrandTerms.Concat(settings.BrandTerms).ToArray(), settings.ForbiddenNames, multiline);

    public async Task<(OwnEntryView Entry, UploadTicket? Upload)> SubmitAsync(string campaignId, string fanId, EligibilityFacts tokenFacts, SubmissionInput input,
        CancellationToken ct, string? idempotencyKey = null)
    {
        var now = time.GetUtcNow();
        var campaign = CampaignRules.IdPattern().IsMatch(campaignId) ? await campaigns.GetCachedAsync(campaignId, ct) : null;
        // A retry with the same key is the same submission: answered from what the first request stored, before any rule
        // (the window may have closed, or the quota been reached by that very entry, since).
        var keyedId = idempotencyKey is null || campaign is null ? null : SubmissionRules.KeyedEntryId(fanId, campaignId, idempotencyKey);
        if (keyedId is not null && await RepeatAsync(campaignId, fanId, keyedId, ct) is { } repeat) return repeat;
        if (SubmissionRules.Accepting(campaign, now) is { } closed) throw new ProblemException(closed);
        if (services.GetService<IFanBlocklist>() is { } blocklist && await blocklist.IsBlockedAsync(campaignId, fanId, ct))
            throw new ProblemException(new ApiProblem(403, "fan_blocked", "You cannot submit to this campaign.", "Contact the campaign's support if you think this is a mistake."));
        // Age and country fail closed: without the data the fan is asked for it (profile_required), never let through.
        var facts = FanEligibility.NeedsProfile(campaign!.Eligibility, tokenFacts)
            ? FanEligibility.Merge(tokenFacts, await services.GetRequiredService<IFanProfiles>().GetProfileAsync(fanId, ct))
            : tokenFacts;
        if (FanEligibility.Check(campaign.Eligibility, facts, now, "Entrants") is { } ineligible) throw new ProblemException(ineligible);
        if (SubmissionRules.UploadProblem(input, O) is { } uploadProblem) throw new ProblemException(uploadProblem);
        var template = input.Kind == Kinds.Label ? await services.GetRequiredService<Labels.LabelService>().TemplateAsync(campaignId, ct) : null;
        var errors = SubmissionRules.Validate(input, campaign!, O, template is not null);
        if (errors.Count > 0) throw new ProblemException(ApiProblem.Validation(errors));
        if (input.Kind == Kinds.Label && template is null)
            throw new ProblemException(ApiProblem.Conflict("label_template_missing", "This campaign has no label template yet."));
        var (consent, consentProblem) = SubmissionRules.Consent(campaign!, input.Consent, now);
        if (consentProblem is not null) throw new ProblemException(consentProblem);
        // Public display is the fan's choice for the campaign (PUT /api/me/campaigns/{id}/consent), not per entry.
        if (await services.GetRequiredService<IFanProfiles>().GetConsentAsync(fanId, campaignId, ct) is { ShowNamePublicly: true } choice)
            consent = consent! with { PublicDisplay = true, PublicDisplayAt = choice.ShowNamePubliclyAt ?? now };

        // Counted, then created: two submissions at the same instant may pass one over the limit, which a quota tolerates.
        var soFar = 0;
        await foreach (var own in store.OwnInCampaignAsync(fanId, campaignId, ct)) if (own.Status != Statuses.Expired) soFar++;
        if (SubmissionRules.Quota(soFar, O) is { } quota) throw new ProblemException(quota);

        var settings = await SettingsAsync(campaignId, ct);
        var locale = input.Locale ?? campaign!.Locales.FirstOrDefault();
        var verdict = SubmissionRules.Safety(safety, input, locale, settings, GlobalBrandTerms);
        if (verdict.Outcome == SafetyOutcomes.Reject)
            throw new ProblemException(new ApiProblem(422, "text_rejected", "The text cannot be accepted.", verdict.Message,
                new Dictionary<string, string[]> { ["reason"] = [verdict.Category ?? "text"] }));

        var entry = SubmissionRules.Create(keyedId ?? SubmissionRules.NewEntryId(now, Random.Shared), fanId, campaign!, input, consent!, verdict, O, now);
        // A text entry goes to review right away; a delayed back-up message, queued before the record, repeats that
        // (idempotently) if the process stops in between — an accepted entry is never left without a review.
        if (entry.Upload is null)
            await storage.Queue(O.ImagesQueue).SendMessageAsync(
                System.Text.Json.JsonSerializer.Serialize(new SubmissionsApi.ImageMessage(campaignId, entry.EntryId), JsonDefaults.Options),
                visibilityTimeout: TimeSpan.FromSeconds(O.ReviewRetryDelaySeconds), cancellationToken: ct);
        try { await store.CreateAsync(entry, ct); }
        catch (RequestFailedException e) when (e.Status == 409 && keyedId is not null)
        {
            // The same key sent twice at once: the other request created it.
            return await RepeatAsync(campaignId, fanId, keyedId, ct) ?? throw new InvalidOperationException($"Entry {keyedId} conflicted but is missing.");
        }
        UploadTicket? ticket = null;
        if (entry.Upload is { } u)
        {
            var url = await media.UploadSasAsync(u.BlobName, u.ExpiresAt, ct);
            ticket = new UploadTicket(url, "PUT", new Dictionary<string, string> { ["x-ms-blob-type"] = "BlockBlob", ["Content-Type"] = u.DeclaredContentType },
                u.ExpiresAt, entry.Kind == Kinds.Video ? O.MaxVideoBytes : O.MaxPhotoBytes);
        }
        else
        {
            try { await SendToReviewAsync(entry, ct); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The entry is stored and the back-up message will deliver it: the fan's submission stands.
                logger.LogWarning(e, "Review request for {CampaignId}/{EntryId} failed; the back-up message will retry", campaignId, entry.EntryId);
            }
        }
        return (await OwnViewAsync(entry, ct), ticket);
    }

    /// <summary>The entry a keyed submission created, as its first answer gave it (a fresh upload URL while it still waits for the bytes).</summary>
    private async Task<(OwnEntryView, UploadTicket?)?> RepeatAsync(string campaignId, string fanId, string entryId, CancellationToken ct)
    {
        if (await store.GetAsync(campaignId, entryId, ct) is not { Entry: var entry } || entry.OwnerFanId != fanId) return null;
        UploadTicket? ticket = null;
        if (entry.Status == Statuses.AwaitingUpload && entry.Upload is { } u && u.ExpiresAt > time.GetUtcNow())
            ticket = new UploadTicket(await media.UploadSasAsync(u.BlobName, u.ExpiresAt, ct), "PUT",
                new Dictionary<string, string> { ["x-ms-blob-type"] = "BlockBlob", ["Content-Type"] = u.DeclaredContentType },
                u.ExpiresAt, entry.Kind == Kinds.Video ? O.MaxVideoBytes : O.MaxPhotoBytes);
        return (await OwnViewAsync(entry, ct), ticket);
    }

    public async Task<OwnEntryView> CompleteAsync(string campaignId, string entryId, string fanId, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(campaignId) || !SubmissionRules.EntryIdPattern().IsMatch(entryId))
            throw new ProblemException(ApiProblem.NotFound("submission_not_found", "The submission"));
        var found = await store.GetAsync(campaignId, entryId, ct);
        if (SubmissionRules.CanComplete(found?.Entry, fanId) is { } refused) throw new ProblemException(refused);
        var (entry, etag) = found!.Value;
        // The upload is the fan's next action: rules published since the submission must be accepted first.
        if (await campaigns.GetCachedAsync(campaignId, ct) is { } campaign
            && (await services.GetService<IFanProfiles>().CheckAsync(campaign, fanId, entry.Consent.RulesVersion, ct)).Problem is { } noConsent)
            throw new ProblemException(noConsent);

        var name = entry.Upload!.BlobName;
        var (size, uploadETag) = await media.ProbeUploadAsync(name, ct);
        // Size first, from the properties: an oversized or mis-declared file is refused before it is copied.
        if (SubmissionRules.SizeProblem(entry, size, O) is { } sizeProblem)
        {
            // A refused file is removed so the slot can take another attempt while the SAS is valid.
            if (size is not null) await media.DeleteUploadAsync(name, ct);
            throw new ProblemException(sizeProblem);
        }
        var original = SubmissionRules.OriginalName(entry);
        var (copySize, head, copyETag) = await media.TakeUploadAsync(name, original, uploadETag!, ct);
        var now = time.GetUtcNow();
        var (completed, problem) = SubmissionRules.Complete(entry, copySize, ContentSniffer.Sniff(head), O, now, copyETag);
        if (problem is not null)
        {
            await media.DeleteOriginalAsync(original, ct);
            await media.DeleteUploadAsync(name, ct);
            throw new ProblemException(problem);
        }

        // Queue first, then record: a message for an entry still "awaiting_upload" is retried until the record lands,
        // whereas a recorded entry without a message would never be processed.
        if (completed!.Status == Statuses.Processing)
            await storage.Queue(O.ImagesQueue).SendMessageAsync(
                System.Text.Json.JsonSerializer.Serialize(new SubmissionsApi.ImageMessage(campaignId, entryId), JsonDefaults.Options), ct);
        try { await store.ReplaceAsync(completed, etag, ct); }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            throw new ProblemException(ApiProblem.Conflict("already_completed", "This upload was already completed."));
        }
        if (completed.Status == Statuses.Pending) await SendToReviewAsync(completed, ct);
        // The fan's blob is no longer needed; if this fails, the slot cleanup deletes it at expiry.
        try { await media.DeleteUploadAsync(name, ct); }
        catch (RequestFailedException e) { logger.LogWarning(e, "Upload blob of {CampaignId}/{EntryId} left for the slot cleanup", campaignId, entryId); }
        return await OwnViewAsync(completed, ct);
    }

    /// <summary>Queue handler. Bad images end as rejected entries; storage faults throw so the message is retried, then poisoned.</summary>
    public async Task ProcessImageAsync(SubmissionsApi.ImageMessage message, CancellationToken ct)
    {
        if (await store.GetAsync(message.CampaignId, message.EntryId, ct) is not { } found)
        {
            logger.LogWarning("Image message for unknown entry {CampaignId}/{EntryId} dropped", message.CampaignId, message.EntryId);
            return;
        }
        var entry = found.Entry;
        if (entry.Status == Statuses.AwaitingUpload)
            throw new InvalidOperationException($"Entry {entry.EntryId} is not recorded as completed yet; retrying.");
        if (entry.Status == Statuses.Processing)
        {
            var data = await media.DownloadOriginalAsync(SubmissionRules.OriginalName(entry), entry.Upload!.BlobETag, ct);
            // The server's copy is gone (erased, or retention ended before a redelivery): nothing to process.
            if (data is null)
            {
                var changed = SubmissionRules.Processed(entry, ImageOutcome.Refused("upload_changed", "The file changed after it was submitted. Please submit it again."), null, time.GetUtcNow());
                try { await store.ReplaceAsync(changed, found.ETag, ct); }
                catch (RequestFailedException e) when (e.Status == 412) { throw new InvalidOperationException("Entry changed while processing; retrying.", e); }
                return;
            }
            // The host hands over a batch of up to 16 messages at once; decoding them all together would multiply peak memory.
            await _imageSlots.WaitAsync(ct);
            ImageOutcome outcome;
            try { outcome = ImagePipeline.Process(data.ToMemory(), ImageLimits.From(O)); }
            finally { _imageSlots.Release(); }
            MediaInfo? info = null;
            if (outcome.Ok)
            {
                var prefix = $"{entry.CampaignId}/{entry.EntryId}/";
                // Private until approved: the public container gets copies only while the entry is published.
                foreach (var d in outcome.Derivatives)
                    await media.PutAsync(MediaStorage.DerivativesContainer, prefix + d.Box + ".jpg", d.Jpeg, "image/jpeg", ct);
                info = new MediaInfo(outcome.Width, outcome.Height, prefix + ImagePipeline.Small + ".jpg", prefix + ImagePipeline.Large + ".jpg");
            }
            var next = SubmissionRules.Processed(entry, outcome, info, time.GetUtcNow());
            try { await store.ReplaceAsync(next, found.ETag, ct); }
            catch (RequestFailedException e) when (e.Status == 412) { throw new InvalidOperationException("Entry changed while processing; retrying.", e); }
            entry = next;
            // Derivatives made (or the image refused): the original is not needed unless a retention period keeps it.
            // (Kept ones are deleted by the storage lifecycle rule on "submission-originals/image/", infra-bicep/modules/storage.bicep.)
            if (O.KeepPhotoOriginalsDays == 0) await media.DeleteOriginalAsync(SubmissionRules.OriginalName(entry), ct);
            logger.LogInformation("Image {EntryId} processed: {Outcome}", entry.EntryId, outcome.ReasonCode ?? "ok");
        }
        // A redelivery after a crash between the record and the delete finishes the delete (idempotent).
        else if (O.KeepPhotoOriginalsDays == 0 && entry.Upload is { CompletedAt: not null } && entry.Kind != Kinds.Video)
            await media.DeleteOriginalAsync(SubmissionRules.OriginalName(entry), ct);
        // Also on redelivery after a crash between the record and the review request (review enqueue is idempotent).
        if (entry.Status is Statuses.Pending || (entry.Status == Statuses.Rejected && entry.ReasonCode is "unreadable_image" or "image_too_large" or "unsupported_format" or "heic_not_supported"))
            await SendToReviewAsync(entry, ct);
    }

    /// <summary>
    /// Timer: every slot past expiry is closed. An entry still awaiting its upload becomes "expired"; the fan's upload
    /// blob is deleted in every case (completed entries were copied out of it), with any lease broken and any snapshot
    /// deleted, so nothing the SAS allowed can keep the blob or stop this timer.
    /// </summary>
    public async Task ExpireSlotsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var (campaignId, entryId, row, partition) in await store.ExpiredSlotsAsync(now, 500, ct))
        {
            await store.UpdateAsync(campaignId, entryId, e => SubmissionRules.Expire(e, now), ct);
            await media.DeleteUploadAsync(SubmissionRules.UploadBlobName(campaignId, entryId), ct);
            await store.DeleteSlotRowAsync(partition, row, ct);
        }
    }

    private async Task SendToReviewAsync(Entry e, CancellationToken ct)
    {
        if (services.GetService<IReviewQueue>() is not { } queue) return; // without Moderation entries stay pending
        // Moderators see pending media through a read URL that outlives a review backlog (a user-delegation key lasts at most 7 days).
        var preview = e.Media is not null ? (await media.PrivateUrlsAsync(e, TimeSpan.FromDays(6), ct))!.Small : e.Text is { } t ? (t.Length > 200 ? t[..200] : t) : e.Title;
        var safetyOutcome = e.Status == Statuses.Rejected ? SafetyOutcomes.Reject : e.Safety ?? SafetyOutcomes.Allow;
        await queue.EnqueueAsync(new ReviewRequest(e.CampaignId, e.EntryId, e.OwnerFanId, e.Kind, e.Locale, e.SubmittedAt ?? e.CreatedAt,
            safetyOutcome, e.Status == Statuses.Rejected ? e.ReasonCode : e.SafetyReason, e.Flags ?? [], preview), ct);
    }

    public async Task<Entry?> GetOwnAsync(string campaignId, string entryId, string fanId, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(campaignId) || !SubmissionRules.EntryIdPattern().IsMatch(entryId)) return null;
        return await store.GetAsync(campaignId, entryId, ct) is { } f && f.Entry.OwnerFanId == fanId ? f.Entry : null;
    }

    public async Task<OwnEntryView> OwnViewAsync(Entry e, CancellationToken ct)
        => OwnEntryView.Of(e, await media.PrivateUrlsAsync(e, MediaStorage.OwnerReadLifetime, ct));

    public GalleryItem GalleryView(Entry e)
    {
        // A label's text is often a first name: shown only while its owner consents to public display.
        var text = SubmissionRules.PublicText(e);
        return new(e.EntryId, e.Kind, e.SubmittedAt ?? e.CreatedAt, e.Locale, e.Title, text,
            text is null ? null : WebUtility.HtmlEncode(text).Replace("\n", "<br>"), media.PublicUrls(e));
    }

    // IPublicDisplay
    public async Task ApplyAsync(string campaignId, string fanId, bool shown, DateTimeOffset at, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(campaignId)) return;
        var ids = new List<string>();
        await foreach (var e in store.OwnInCampaignAsync(fanId, campaignId, ct)) if (e.Consent.PublicDisplay != shown) ids.Add(e.EntryId);
        foreach (var id in ids)
            await store.UpdateAsync(campaignId, id, e => e.Consent.PublicDisplay == shown ? null
                : e with { Consent = e.Consent with { PublicDisplay = shown, PublicDisplayAt = shown ? at : null } }, ct);
        // The by-votes ranking caches entries (with their consent) on this instance; other instances refresh within its lifetime.
        if (ids.Count > 0) _rankedGallery.ForgetPrefix(campaignId + "|");
    }

    // IEntryDirectory
    public async Task<EntryInfo?> GetAsync(string campaignId, string entryId, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(campaignId) || !SubmissionRules.EntryIdPattern().IsMatch(entryId)) return null;
        return await store.GetAsync(campaignId, entryId, ct) is { } f ? Info(f.Entry) : null;
    }

    public async IAsyncEnumerable<EntryInfo> ApprovedAsync(string campaignId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(campaignId)) yield break;
        await foreach (var e in store.AllGalleryAsync(campaignId, ct)) yield return Info(e);
    }

    private static EntryInfo Info(Entry e) => new(e.CampaignId, e.EntryId, e.OwnerFanId, e.Kind,
        e.OwnerHidden && e.Status == Statuses.Approved ? Statuses.Hidden : e.Status, e.SubmittedAt ?? e.CreatedAt, e.Title, e.Locale);

    // IEntryModeration
    public async Task ApplyAsync(string campaignId, string entryId, EntryDecision decision, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(campaignId) || !SubmissionRules.EntryIdPattern().IsMatch(entryId))
            throw new ProblemException(ApiProblem.NotFound("entry_not_found", "The entry"));
        ApiProblem? problem = null;
        var token = NewPublicToken();
        var updated = await store.UpdateAsync(campaignId, entryId, e =>
        {
            var (next, p) = SubmissionRules.Moderate(e, decision);
            problem = p;
            return next is null ? null : SubmissionRules.Published(next, token);
        }, ct);
        if (updated is null) throw new ProblemException(ApiProblem.NotFound("entry_not_found", "The entry"));
        if (problem is not null) throw new ProblemException(problem);
        // After the record: withdrawal deletes the public blobs; a repeated decision repairs a sync that failed half-way.
        await media.SyncPublicAsync(updated, ct);
    }

    /// <summary>Unguessable, so a public name cannot be found before it is published, nor reused after.</summary>
    internal static string NewPublicToken() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    public async Task<int> SetOwnerHiddenAsync(string campaignId, string fanId, bool hidden, CancellationToken ct)
    {
        var changed = 0;
        var ids = new List<string>();
        await foreach (var e in store.OwnInCampaignAsync(fanId, campaignId, ct)) if (e.OwnerHidden != hidden) ids.Add(e.EntryId);
        foreach (var id in ids)
        {
            var now = time.GetUtcNow();
            var token = NewPublicToken();
            var r = await store.UpdateAsync(campaignId, id, e => e.OwnerHidden == hidden ? null : SubmissionRules.Published(e with { OwnerHidden = hidden, UpdatedAt = now }, token), ct);
            if (r is not null) await media.SyncPublicAsync(r, ct);
            if (r?.OwnerHidden == hidden) changed++;
        }
        return changed;
    }
}
