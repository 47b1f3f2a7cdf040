using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Campaigns.Campaigns;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.Episodes;

public static class EpisodesApi
{
    public static void AddEpisodes(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<EpisodesOptions>().Bind(builder.Configuration.GetSection("Episodes")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<EpisodesOptions>, EpisodesOptionsValidator>();
        s.AddTable(EpisodeStore.TableName);
        s.AddTable(EngagementStore.TableName);
        // Names come from settings so deployments (and test runs) sharing an account keep separate schedules.
        s.AddSingleton<StorageResource>(sp => new TableResource(sp.GetRequiredService<IOptions<EpisodesOptions>>().Value.DueTable));
        s.AddSingleton<StorageResource>(sp => new QueueResource(sp.GetRequiredService<IOptions<EpisodesOptions>>().Value.WebhookQueue + "-deadletter"));
        s.AddSingleton<EpisodeStore>();
        s.AddSingleton<EngagementStore>();
        s.AddSingleton<DueIndex>();
        s.AddSingleton<EpisodeWebhooks>();
        s.AddSingleton<EpisodeScheduler>();
        s.AddSingleton<PublishedEpisodes>();
        s.AddWebhookClient(EpisodeWebhooks.HttpClientName);

        s.AddTimerFunction(EpisodeScheduler.TimerName, "0 * * * * *", inv =>
            inv.Service<EpisodeScheduler>().TickAsync(inv.Service<TimeProvider>().GetUtcNow(), inv.Cancellation));
        s.AddTimerFunction(EpisodeScheduler.SyncTimerName, "30 */5 * * * *", inv =>
            inv.Service<EpisodeScheduler>().SyncAllAsync(inv.Service<TimeProvider>().GetUtcNow(), inv.Cancellation));
        s.AddSingleton(sp => new FunctionDefinition(EpisodeWebhooks.FunctionName,
            new QueueTrigger(sp.GetRequiredService<IOptions<EpisodesOptions>>().Value.WebhookQueue),
            async inv =>
            {
                await inv.Service<EpisodeWebhooks>().HandleAsync(inv.QueueMessage<WebhookMessage>(JsonDefaults.Options), inv.Cancellation);
                return null;
            }));
    }

    public static void MapEpisodes(this WebApplication app)
    {
        var staff = app.MapGroup("/api/campaigns/{campaignId}").WithTags("Episodes");

        staff.MapPost("/series/preview", async (string campaignId, PreviewInput input, CampaignStore campaigns, TimeProvider time, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
            var zone = campaign.Zone;
            if (input.TimeZone is not null)
            {
                if (EpisodeTime.Zone(input.TimeZone) is not { } z)
                    return ApiProblem.Validation("timeZone", $"'{input.TimeZone}' is not an IANA time zone (e.g. Europe/Zurich).", "unknown_time_zone").ToResult();
                zone = z;
                campaign = campaign with { TimeZone = input.TimeZone };
            }
            if (input.Count is < 1 or > 100) return ApiProblem.Validation("count", "Preview 1 to 100 publications.").ToResult();
            var (parsed, errors, code) = EpisodeTime.Parse(input.Recurrence, input.Times);
            if (parsed is null) return ApiProblem.Validation(errors, code).ToResult();
            var now = time.GetUtcNow();
            var slots = EpisodeTime.Expand(parsed, zone);
            return Results.Ok(Preview(campaign, parsed, slots, input.Count ?? 10, now));
        }).Requires(Powers.EpisodesEdit).WithSummary("Preview the next publications of a rule: local and UTC instants, with warnings.");

        staff.MapPost("/series", async (string campaignId, SeriesInput input, HttpRequest http, CampaignStore campaigns, EpisodeStore store, TimeProvider time, CancellationToken ct) =>
        {
            var key = IdempotencyKeys.Read(http);
            if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
            if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > EpisodeRules.MaxName)
                return ApiProblem.Validation("name", $"Required, at most {EpisodeRules.MaxName} characters.").ToResult();
            if (input.Id is not null && !EpisodeRules.IdPattern().IsMatch(input.Id))
                return ApiProblem.Validation("id", "Use 3–63 lowercase letters, digits and hyphens.").ToResult();
            var (parsed, errors, code) = EpisodeTime.Parse(input.Recurrence, input.Times);
            if (parsed is null) return ApiProblem.Validation(errors, code).ToResult();
            if (parsed.EndsBeforeStart)
                return ApiProblem.Validation("recurrence.until", "The end is before the start.", "times_out_of_order").ToResult();
            var slots = EpisodeTime.Expand(parsed, campaign.Zone);
            if (slots.Count == 0) return ApiProblem.Validation("recurrence", "The rule produces no publication.", "invalid_recurrence").ToResult();
            var now = time.GetUtcNow();
            // Without an id of its own, a keyed request names its series by the key: a retry finds the first one's.
            var id = input.Id ?? (key is null ? "s-" + RandomId() : "s-" + IdempotencyKeys.Id(key, 16, "series", campaign.Id));
            if (input.Id is null && key is not null && await store.GetSeriesAsync(campaign.Id, id, ct) is { } repeated)
                return Results.Created($"/api/campaigns/{campaign.Id}/series/{repeated.Id}", new { series = repeated, preview = Preview(campaign, parsed, slots, 10, now) });
            var series = new Series(id, campaign.Id, input.Name.Trim(), input.Recurrence, input.Times, now);
            await store.CreateSeriesAsync(series, ct);
            return Results.Created($"/api/campaigns/{campaign.Id}/series/{series.Id}",
                new { series, preview = Preview(campaign, parsed, slots, 10, now) });
        }).Requires(Powers.EpisodesEdit).WithSummary("Create a series from a recurrence or explicit local times.");

        staff.MapGet("/series", async (string campaignId, int? pageSize, string? continuation, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
            await EpisodeCampaign(campaignId, campaigns, ct) is null ? NoCampaign() : Results.Ok(await store.ListSeriesAsync(campaignId, pageSize, continuation, ct)))
            .Requires(Powers.EpisodesRead).WithSummary("The campaign's series, paged.");

        staff.MapGet("/series/{seriesId}", async (string campaignId, string seriesId, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
            if (await FindSeries(campaignId, seriesId, store, ct) is not { } series) return NoSeries();
            var episodes = await store.ListEpisodesAsync(campaignId, seriesId, ct);
            return Results.Ok(new { series, episodes = episodes.Select(e => e.Episode).OrderBy(e => e.DueAt).Select(e => Staff(e, campaign)) });
        }).Requires(Powers.EpisodesRead).WithSummary("A series with its episodes in publication order.");

        staff.MapPost("/series/{seriesId}/episodes", async (string campaignId, string seriesId, EpisodeInput input, HttpRequest http, CampaignStore campaigns,
            EpisodeStore store, DueIndex due, TimeProvider time, CancellationToken ct) =>
        {
            var key = IdempotencyKeys.Read(http);
            if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
            if (await FindSeries(campaignId, seriesId, store, ct) is not { } series) return NoSeries();
            if (EpisodeRules.ValidateContent(input.Content, campaign) is { } invalid) return invalid.ToResult();
            var (parsed, _, _) = EpisodeTime.Parse(series.Recurrence, series.Times);
            var slots = EpisodeTime.Expand(parsed!, campaign.Zone);
            var existing = await store.ListEpisodesAsync(campaignId, seriesId, ct);
            var now = time.GetUtcNow();
            // A keyed request names its episode by the key: a retry answers with the episode the first one added.
            var id = key is null ? "e-" + RandomId() : "e-" + IdempotencyKeys.Id(key, 16, "episode", campaignId, seriesId);
            if (existing.FirstOrDefault(x => x.Episode.Id == id) is { Episode: { } repeated })
                return Results.Created($"/api/campaigns/{campaignId}/episodes/{repeated.Id}", Staff(repeated, campaign));
            var decision = EpisodeRules.Add(campaign, existing.Select(x => x.Episode).ToList(), slots, input, id, seriesId, now);
            if (decision.Problem is { } p) return p.ToResult();
            await Save(campaignId, decision, existing, store, due, ct);
            return Results.Created($"/api/campaigns/{campaignId}/episodes/{decision.Changed[0].Id}", Staff(decision.Changed[0], campaign));
        }).Requires(Powers.EpisodesEdit).WithSummary("Add a draft episode: appended, inserted at a position (later ones shift) or pinned to a time. "
            + "With an Idempotency-Key a retry answers with the episode the first request added.");

        staff.MapPut("/series/{seriesId}/order", async (string campaignId, string seriesId, OrderInput input, CampaignStore campaigns,
            EpisodeStore store, DueIndex due, TimeProvider time, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
            if (await FindSeries(campaignId, seriesId, store, ct) is null) return NoSeries();
            var existing = await store.ListEpisodesAsync(campaignId, seriesId, ct);
            var decision = EpisodeRules.Reorder(existing.Select(x => x.Episode).ToList(), input.EpisodeIds, time.GetUtcNow());
            if (decision.Problem is { } p) return p.ToResult();
            await Save(campaignId, decision, existing, store, due, ct);
            var after = await store.ListEpisodesAsync(campaignId, seriesId, ct);
            return Results.Ok(new { episodes = after.Select(e => e.Episode).OrderBy(e => e.DueAt).Select(e => Staff(e, campaign)) });
        }).Requires(Powers.EpisodesEdit).WithSummary("Reorder the unpublished episodes of a series over the same slots.");

        staff.MapGet("/episodes/{episodeId}", async (string campaignId, string episodeId, CampaignStore campaigns, EpisodeStore store, HttpContext http, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
            if (await FindEpisode(campaignId, episodeId, store, ct) is not { } found) return NoEpisode();
            http.Response.Headers.ETag = found.ETag.ToString("H");
            return Results.Ok(Staff(found.Episode, campaign));
        }).Requires(Powers.EpisodesRead).WithSummary("An episode, any state, with its ETag.");

        staff.MapPut("/episodes/{episodeId}", (string campaignId, string episodeId, EpisodeEdit edit, CampaignStore campaigns, EpisodeStore store,
            DueIndex due, TimeProvider time, HttpContext http, CancellationToken ct) =>
            Change(campaignId, episodeId, campaigns, store, due, time, http, ct, (e, c, now) =>
                EpisodeRules.ValidateContent(edit.Content, c) is { } invalid ? Decision.Refuse(invalid) : EpisodeRules.Edit(e, edit, c, now)))
            .Requires(Powers.EpisodesEdit).WithSummary("Edit an unpublished episode's content or pin it to a time (If-Match optional).");

        staff.MapPost("/episodes/{episodeId}/schedule", (string campaignId, string episodeId, CampaignStore campaigns, EpisodeStore store,
            DueIndex due, TimeProvider time, HttpContext http, CancellationToken ct) =>
            Change(campaignId, episodeId, campaigns, store, due, time, http, ct, (e, _, now) => EpisodeRules.Schedule(e, now)))
            .Requires(Powers.EpisodesEdit).WithSummary("Schedule a draft: it is published at its time.");

        staff.MapPost("/episodes/{episodeId}/unschedule", (string campaignId, string episodeId, CampaignStore campaigns, EpisodeStore store,
            DueIndex due, TimeProvider time, HttpContext http, CancellationToken ct) =>
            Change(campaignId, episodeId, campaigns, store, due, time, http, ct, (e, _, now) => EpisodeRules.Unschedule(e, now)))
            .Requires(Powers.EpisodesEdit).WithSummary("Back to draft: it is not published at its time.");

        staff.MapPost("/episodes/{episodeId}/cancel", (string campaignId, string episodeId, CampaignStore campaigns, EpisodeStore store,
            DueIndex due, TimeProvider time, HttpContext http, CancellationToken ct) =>
            Change(campaignId, episodeId, campaigns, store, due, time, http, ct, (e, _, now) => EpisodeRules.Cancel(e, "cancelled by staff", now)))
            .Requires(Powers.EpisodesEdit).WithSummary("Cancel an unpublished episode; its slot stays empty.");

        staff.MapGet("/episode-settings", async (string campaignId, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
            await EpisodeCampaign(campaignId, campaigns, ct) is null ? NoCampaign() : Results.Ok(await store.GetSettingsAsync(campaignId, ct)))
            .Requires(Powers.EpisodeSettingsRead).WithSummary("Catch-up policy and webhook receiver of the campaign.");

        staff.MapPut("/episode-settings", async (string campaignId, SettingsInput input, CampaignStore campaigns, EpisodeStore store,
            IOptions<WebhookOptions> webhooks, TimeProvider time, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is null) return NoCampaign();
            if (EpisodeRules.ValidateSettings(input, webhooks.Value.AllowHttpLoopback) is { } invalid) return invalid.ToResult();
            var before = await store.GetSettingsAsync(campaignId, ct);
            var settings = new EpisodeSettings(input.CatchUp, input.WebhookUrl, input.LateAfterMinutes ?? 5);
            string? shown = null;
            // A new receiver gets its own new secret (shown once here): the previous receiver's secret must not sign for it.
            // Saved before the URL, so a delivery never finds a receiver without a secret.
            if (input.WebhookUrl is not null && (input.WebhookUrl != before.WebhookUrl || await store.GetDoc<WebhookSecrets>(campaignId, EpisodeWebhooks.SecretsKey, ct) is null))
            {
                var secrets = WebhookSecrets.New(time.GetUtcNow());
                await store.PutDoc(campaignId, EpisodeWebhooks.SecretsKey, secrets, ct);
                shown = secrets.Primary;
            }
            await store.PutSettingsAsync(campaignId, settings, ct);
            return Results.Ok(new SettingsView(settings.CatchUp, settings.WebhookUrl, settings.LateAfterMinutes, shown));
        }).Requires(Powers.EpisodeSettingsEdit).WithSummary("Set the catch-up policy (publishLate or skip) and the webhook receiver; a new receiver's secret is in the answer.");

        staff.MapGet("/episode-settings/webhook-secrets", async (string campaignId, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is null) return NoCampaign();
            return await store.GetDoc<WebhookSecrets>(campaignId, EpisodeWebhooks.SecretsKey, ct) is { } s ? Results.Ok(s.Doc) : NoWebhook();
        }).Requires(Powers.EpisodeSettingsEdit).WithSummary("The webhook receiver's signing secrets (primary, and the previous one during a rotation).");

        staff.MapPost("/episode-settings/webhook-secrets/rotate", async (string campaignId, RotateSecretInput? input, HttpRequest http, CampaignStore campaigns,
            EpisodeStore store, IOptions<EpisodesOptions> options, TimeProvider time, CancellationToken ct) =>
        {
            var key = IdempotencyKeys.Read(http);
            if (await EpisodeCampaign(campaignId, campaigns, ct) is null) return NoCampaign();
            if (input?.OverlapHours is < 0 or > 720) return ApiProblem.Validation("overlapHours", "Use 0 to 720 hours.").ToResult();
            if (await store.GetDoc<WebhookSecrets>(campaignId, EpisodeWebhooks.SecretsKey, ct) is not { } current) return NoWebhook();
            var now = time.GetUtcNow();
            var rotated = current.Doc.Rotate(StandardWebhook.NewSecret(), now, TimeSpan.FromHours(input?.OverlapHours ?? options.Value.WebhookRotationOverlapHours), key);
            if (ReferenceEquals(rotated, current.Doc)) return Results.Ok(rotated);
            // Conditional on the secrets read: of two rotations at once, one wins and the other is told to read again.
            if (!await store.ReplaceDocAsync(campaignId, EpisodeWebhooks.SecretsKey, rotated, current.ETag, ct)) return ApiProblem.Stale().ToResult();
            return Results.Ok(rotated);
        }).Requires(Powers.EpisodeSettingsEdit).WithSummary("New primary secret; the previous one keeps signing for overlapHours (default Episodes__WebhookRotationOverlapHours). "
            + "With an Idempotency-Key a retry answers with the rotation already made.");

        staff.MapDelete("/episode-settings/webhook-secrets/previous", async (string campaignId, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is null) return NoCampaign();
            if (await store.GetDoc<WebhookSecrets>(campaignId, EpisodeWebhooks.SecretsKey, ct) is not { } current) return NoWebhook();
            var ended = current.Doc.WithoutPrevious();
            await store.PutDoc(campaignId, EpisodeWebhooks.SecretsKey, ended, ct);
            return Results.Ok(ended);
        }).Requires(Powers.EpisodeSettingsEdit).WithSummary("End a rotation's overlap now: only the primary secret signs.");

        staff.MapGet("/schedule/audit", async (string campaignId, int? pageSize, string? continuation, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
            await EpisodeCampaign(campaignId, campaigns, ct, requireEpisodes: false) is null ? NoCampaign()
                : Results.Ok(await store.AuditAsync(campaignId, pageSize, continuation, ct)))
            .Requires(Powers.EpisodesRead).WithSummary("What the scheduler did on its own (skipped episodes, parked jobs) and retries people asked for, paged.");

        staff.MapGet("/schedule/phases", async (string campaignId, int? pageSize, string? continuation, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
            await EpisodeCampaign(campaignId, campaigns, ct, requireEpisodes: false) is null ? NoCampaign()
                : Results.Ok(await store.PhaseRunsAsync(campaignId, pageSize, continuation, ct)))
            .Requires(Powers.EpisodesRead).WithSummary("Phase events the scheduler ran (window opens and closes, reveals, draws), paged.");

        staff.MapGet("/schedule/parked", async (string campaignId, int? pageSize, string? continuation, CampaignStore campaigns, EpisodeStore store, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct, requireEpisodes: false) is null) return NoCampaign();
            var page = await store.ParkedAsync(campaignId, pageSize, continuation, ct);
            return Results.Ok(new ListPage<ParkedJobView>(page.Items.Select(ParkedJobView.Of).ToList(), page.Continuation));
        }).Requires(Powers.EpisodesRead).WithSummary("Jobs parked after failing every retry: they wait for a person to fix the cause and retry them.");

        staff.MapPost("/schedule/parked/retry", async (string campaignId, ParkedRetryInput input, ClaimsPrincipal user, CampaignStore campaigns,
            EpisodeScheduler scheduler, TimeProvider time, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct, requireEpisodes: false) is null) return NoCampaign();
            if (input.Type is not (DueItem.Episode or DueItem.Phase) || string.IsNullOrWhiteSpace(input.Target) || input.Target.Length > 100)
                return ApiProblem.Validation("type", "Name a parked job by its type (episode or phase), target and dueAt, as the parked list shows it.").ToResult();
            var item = new DueItem(campaignId, input.Type, input.Target, input.DueAt.ToUniversalTime());
            if (await scheduler.RetryParkedAsync(item, user.Subject(), time.GetUtcNow(), ct) is not { } job)
                return ApiProblem.NotFound("job_not_parked", "A parked job with this type, target and due instant").ToResult();
            return Results.Accepted(null, ParkedJobView.Of(job));
        }).Requires(Powers.EpisodesEdit).WithSummary("Retry a parked job at the next tick (after fixing its cause); audited. Failing again parks it again.");

        staff.MapPost("/schedule/sync", async (string campaignId, CampaignStore campaigns, EpisodeScheduler scheduler, TimeProvider time, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct, requireEpisodes: false) is not { } campaign) return NoCampaign();
            return Results.Ok(new { indexed = await scheduler.SyncCampaignAsync(campaign, time.GetUtcNow(), ct) });
        }).Requires(Powers.EpisodesEdit).WithSummary("Index the campaign's phase instants now (the scheduler also does so every five minutes).");

        staff.MapGet("/episodes/engagement", async (string campaignId, CampaignStore campaigns, EpisodeStore store, EngagementStore engagement, CancellationToken ct) =>
        {
            if (await EpisodeCampaign(campaignId, campaigns, ct) is null) return NoCampaign();
            var perEpisode = new List<object>();
            var perDay = new SortedDictionary<string, (long V, long R)>(StringComparer.Ordinal);
            string? after = null;
            do
            {
                var (items, next) = await store.FeedAsync(campaignId, 200, after, ct);
                foreach (var e in items)
                {
                    var counts = await engagement.CountsAsync(campaignId, e.Id, ct);
                    var f = EngagementRules.Of(counts.Sum(c => c.Views), counts.Sum(c => c.Reactions));
                    perEpisode.Add(new { episodeId = e.Id, e.PublishedAt, f.Views, f.Reactions, engagementRate = f.Rate });
                    foreach (var (day, v, r) in counts)
                    {
                        perDay.TryGetValue(day, out var t);
                        perDay[day] = (t.V + v, t.R + r);
                    }
                }
                after = next;
            } while (after is not null);
            return Results.Ok(new
            {
                episodes = perEpisode,
                days = perDay.Select(kv => { var f = EngagementRules.Of(kv.Value.V, kv.Value.R); return new { day = kv.Key, f.Views, f.Reactions, engagementRate = f.Rate }; }),
            });
        }).Requires(Powers.EpisodesRead).WithSummary("Engagement per episode and per day: reactions ÷ views.");

        var pub = app.MapGroup("/api/public/campaigns/{campaignId}/episodes").WithTags("Episodes");

        pub.MapGet("/", async (string campaignId, int? pageSize, string? continuation, CampaignStore campaigns, EpisodeStore store,
            TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            if (await PublicCampaign(campaignId, campaigns, now, ct) is null) return NoCampaign();
            string? after = null;
            if (continuation is not null && (Decode(continuation) is not { } key || !key.StartsWith("feed|", StringComparison.Ordinal)))
                return ApiProblem.Validation("continuation", "Not a continuation token from this feed.", "invalid_continuation").ToResult();
            else if (continuation is not null) after = Decode(continuation);
            var (items, next) = await store.FeedAsync(campaignId, Math.Clamp(pageSize ?? 20, 1, 100), after, ct);
            // The feed only ever holds published rows; the filter is a second guard against clock skew.
            var visible = items.Where(i => i.ScheduledFor <= now && i.PublishedAt <= now).ToList();
            var body = new { items = visible, continuation = next is null ? null : Encode(next) };
            var etag = "\"" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(body, JsonDefaults.Options))))[..32] + "\"";
            http.Response.Headers.CacheControl = "public, max-age=15";
            http.Response.Headers.ETag = etag;
            if (http.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() == etag || t.Trim() == "*")))
                return Results.StatusCode(304);
            return Results.Ok(body);
        }).AllowAnonymous().WithSummary("Published episodes, newest first, with continuation tokens and an ETag.");

        pub.MapGet("/{episodeId}", async (string campaignId, string episodeId, CampaignStore campaigns, EpisodeStore store, TimeProvider time,
            HttpContext http, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            if (await PublicCampaign(campaignId, campaigns, now, ct) is null) return NoCampaign();
            if (!EpisodeRules.IdPattern().IsMatch(episodeId) || await store.GetPublishedAsync(campaignId, episodeId, ct) is not { } e || e.ScheduledFor > now)
                return NoEpisode();
            http.Response.Headers.CacheControl = "public, max-age=60";
            return Results.Ok(e);
        }).AllowAnonymous().WithSummary("One published episode (scheduled ones are not found until their time).");

        pub.MapPost("/{episodeId}/views", async (string campaignId, string episodeId, CampaignStore campaigns, PublishedEpisodes published,
            EngagementStore engagement, MinuteRateLimiter limiter, ClientAddresses clients, IOptions<EpisodesOptions> options, TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            var client = clients.Of(http)?.ToString() ?? "unknown";
            if (!limiter.TryAcquire("view|" + client, options.Value.ViewsPerMinute)) return RateLimitProblems.RateLimited(http);
            var now = time.GetUtcNow();
            if (await PublicCampaign(campaignId, campaigns, now, ct) is not { } campaign) return NoCampaign();
            if (!await published.IsPublishedAsync(campaignId, episodeId, now, ct)) return NoEpisode();
            await engagement.ViewAsync(campaignId, episodeId, EpisodeTime.LocalDay(now, campaign.Zone).ToString("yyyy-MM-dd", null), ct);
            return Results.Accepted(value: new { counted = true });
        }).AllowAnonymous().WithSummary("A microsite reports a view of a published episode (rate-limited per client).");

        pub.MapPost("/{episodeId}/reactions", async (string campaignId, string episodeId, ClaimsPrincipal user, CampaignStore campaigns,
            PublishedEpisodes published, EngagementStore engagement, MinuteRateLimiter limiter, IOptions<EpisodesOptions> options, TimeProvider time,
            Fans.IFanProfiles fans, HttpContext http, CancellationToken ct) =>
        {
            var fan = user.Subject();
            if (!limiter.TryAcquire("react|" + fan, options.Value.ReactionsPerMinute)) return RateLimitProblems.RateLimited(http);
            var now = time.GetUtcNow();
            if (await PublicCampaign(campaignId, campaigns, now, ct) is not { } campaign) return NoCampaign();
            if (!await published.IsPublishedAsync(campaignId, episodeId, now, ct)) return NoEpisode();
            // A reaction is a fan action like a vote: a campaign with rules needs its current version accepted first.
            if ((await Fans.FanConsents.CheckAsync(fans, campaign, fan, null, ct)).Problem is { } noConsent) return noConsent.ToResult();
            var counted = await engagement.ReactAsync(campaignId, episodeId, fan, EpisodeTime.LocalDay(now, campaign.Zone).ToString("yyyy-MM-dd", null), now, ct);
            return Results.Ok(new { counted });
        }).RequireAuthorization(Policies.Fan).WithSummary("A fan reacts to a published episode: once per fan and episode.");
    }

    private static object Preview(Campaign campaign, ParsedSchedule parsed, List<Slot> slots, int count, DateTimeOffset now)
    {
        var upcoming = slots.Where(s => s.Utc > now).Take(count).ToList();
        if (upcoming.Count == 0) upcoming = slots.Take(count).ToList();
        var occurrences = upcoming.Select((s, i) => new
        {
            index = i,
            requested = EpisodeTime.FormatLocal(s.Requested),
            local = s.Local,
            utc = s.Utc,
            weekday = s.Zoned.DayOfWeek.ToString(),
            resolution = s.Resolution,
            warnings = EpisodeTime.SlotWarnings(s, campaign, now),
        }).ToList();
        var warnings = new List<TimeWarning>(parsed.InputWarnings);
        if (slots.Count > 0 && slots.All(s => s.Utc <= now)) warnings.Add(new TimeWarning("all_in_the_past", "Every publication of this rule is already past."));
        foreach (var code in new[] { "skipped_local_time", "repeated_local_time", "outside_publish_window" })
        {
            var n = slots.Count(s => EpisodeTime.SlotWarnings(s, campaign, now).Any(w => w.Code == code));
            if (n > 0) warnings.Add(new TimeWarning(code, $"{n} of {slots.Count} publications: see each occurrence.", null));
        }
        return new { timeZone = campaign.TimeZone, total = slots.Count, occurrences, warnings };
    }

    private static async Task<IResult> Change(string campaignId, string episodeId, CampaignStore campaigns, EpisodeStore store, DueIndex due,
        TimeProvider time, HttpContext http, CancellationToken ct, Func<Episode, Campaign, DateTimeOffset, Decision> decide)
    {
        if (await EpisodeCampaign(campaignId, campaigns, ct) is not { } campaign) return NoCampaign();
        if (await FindEpisode(campaignId, episodeId, store, ct) is not { } found) return NoEpisode();
        if (http.Request.Headers.IfMatch.FirstOrDefault() is { Length: > 0 } ifMatch && Opaque(ifMatch) != Opaque(found.ETag.ToString("H")))
            return ApiProblem.Stale().ToResult();
        var now = time.GetUtcNow();
        var decision = decide(found.Episode, campaign, now);
        if (decision.Problem is { } p) return p.ToResult();
        await Save(campaignId, decision, [found], store, due, ct);
        var after = await store.GetEpisodeAsync(campaignId, episodeId, ct);
        if (after is { } a) http.Response.Headers.ETag = a.ETag.ToString("H");
        return Results.Ok(Staff(after?.Episode ?? found.Episode, campaign));
    }

    /// <summary>Index entries first, then the episodes: a scheduled episode is never without its due entry.</summary>
    private static async Task Save(string campaignId, Decision decision, IEnumerable<(Episode Episode, ETag ETag)> read, EpisodeStore store, DueIndex due, CancellationToken ct)
    {
        foreach (var e in decision.Changed.Where(e => e.State == EpisodeState.Scheduled))
            await due.PutAsync(new DueItem(campaignId, DueItem.Episode, e.Id, e.DueAt), ct);
        await store.SaveAsync(campaignId, decision.Changed, read.ToDictionary(x => x.Episode.Id, x => x.ETag), ct);
    }

    private static object Staff(Episode e, Campaign c) => new
    {
        e.Id, e.SeriesId, e.State, e.DueAt, dueLocal = EpisodeTime.LocalText(e.DueAt, c.Zone), e.Pinned, e.Content,
        e.PublishedAt, e.Late, e.CancelReason, e.CreatedAt, e.UpdatedAt,
    };

    private static async Task<Campaign?> EpisodeCampaign(string id, CampaignStore campaigns, CancellationToken ct, bool requireEpisodes = true)
    {
        if (await campaigns.GetAsync(id, ct) is not { } found) return null;
        if (requireEpisodes && !found.Campaign.Runs(CampaignFeature.Episodes))
            throw new ProblemException(ApiProblem.Conflict("episodes_not_enabled", "The campaign does not run episodes (features)."));
        return found.Campaign;
    }

    private static async Task<Campaign?> PublicCampaign(string id, CampaignStore campaigns, DateTimeOffset now, CancellationToken ct)
        => await campaigns.GetCachedAsync(id, ct) is { } c && c.IsVisibleToPublic(now) && c.Runs(CampaignFeature.Episodes) ? c : null;

    private static async Task<Series?> FindSeries(string campaignId, string id, EpisodeStore store, CancellationToken ct)
        => EpisodeRules.IdPattern().IsMatch(id) ? await store.GetSeriesAsync(campaignId, id, ct) : null;

    private static async Task<(Episode Episode, ETag ETag)?> FindEpisode(string campaignId, string id, EpisodeStore store, CancellationToken ct)
        => EpisodeRules.IdPattern().IsMatch(id) ? await store.GetEpisodeAsync(campaignId, id, ct) : null;

    private static IResult NoCampaign() => ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
    private static IResult NoWebhook() => ApiProblem.NotFound("webhook_not_set", "A webhook receiver").ToResult();
    private static IResult NoSeries() => ApiProblem.NotFound("series_not_found", "The series").ToResult();
    private static IResult NoEpisode() => ApiProblem.NotFound("episode_not_found", "The episode").ToResult();

    private static string Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;

    private static string RandomId()
    {
        const string alphabet = "abcdefghjkmnpqrstvwxyz23456789";
        return new string(Enumerable.Range(0, 10).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]).ToArray());
    }

    private static string Encode(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? Decode(string token)
    {
        if (token.Length > 200) return null;
        var b64 = token.Replace('-', '+').Replace('_', '/');
        b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(b64)); }
        catch (FormatException) { return null; }
    }
}

/// <summary>Which episodes are published, for engagement reports; publication is final, so positive answers are cached.</summary>
public sealed class PublishedEpisodes(EpisodeStore store)
{
    private readonly ConcurrentDictionary<string, bool> _published = new();

    public async Task<bool> IsPublishedAsync(string campaignId, string episodeId, DateTimeOffset now, CancellationToken ct)
    {
        if (!EpisodeRules.IdPattern().IsMatch(episodeId)) return false;
        var key = campaignId + "|" + episodeId;
        if (_published.ContainsKey(key)) return true;
        if (await store.GetPublishedAsync(campaignId, episodeId, ct) is not { } e || e.ScheduledFor > now) return false;
        if (_published.Count < 100_000) _published[key] = true;
        return true;
    }
}
