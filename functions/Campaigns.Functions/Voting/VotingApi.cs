using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Azure;
using Campaigns.Campaigns;
using Campaigns.Fans;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

public static class VotingApi
{
    public const string CounterFunction = "VoteCounter";
    /// <summary>Refused attempts kept per fan and campaign per minute; beyond that a flood is answered but not stored.</summary>
    public const int RefusalsKeptPerFanPerMinute = 10;

    public static void AddVoting(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<VotingOptions>().Bind(builder.Configuration.GetSection("Voting")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<VotingOptions>, VotingOptionsValidator>();
        s.AddTable(VoteCounter.TableName);
        s.AddTable(BallotStore.TableName);
        s.AddTable(RevealService.TableName);
        // Resolved from the bound options (not read at registration) so every configuration source, tests' included, applies.
        s.AddSingleton(sp => new FunctionDefinition(CounterFunction, new QueueTrigger(sp.GetRequiredService<IOptions<VotingOptions>>().Value.Queue),
            async inv => { await VoteCounter.HandleAsync(inv); return null; }));
        s.AddSingleton<VotingFaults>();
        s.AddSingleton<BallotStore>();
        s.AddSingleton<VoteBuffer>();
        s.AddSingleton<VoteCounter>();
        s.AddSingleton<VoteRateLimits>();
        s.AddSingleton<RevealService>();
        s.AddSingleton<StorageOps>();
        s.AddHostedService(sp => sp.GetRequiredService<StorageOps>());
        s.AddSingleton<ICaptchaVerifier>(sp => sp.GetRequiredService<IOptions<VotingOptions>>().Value.CaptchaProvider == "siteverify"
            ? new SiteverifyCaptchaVerifier(new HttpClient { Timeout = TimeSpan.FromSeconds(5) }, sp.GetRequiredService<IOptions<VotingOptions>>())
            : new LocalCaptchaVerifier());
        s.AddSingleton<VotingContracts>();
        s.AddSingleton<IVoteInvalidation>(sp => sp.GetRequiredService<VotingContracts>());
        s.AddSingleton<IVoteSuspension>(sp => sp.GetRequiredService<VotingContracts>());
        s.AddSingleton<IVoterDirectory>(sp => sp.GetRequiredService<VotingContracts>());
        s.AddSingleton<Moderation.IFanVoteCounts>(sp => sp.GetRequiredService<VotingContracts>());
        s.AddSingleton<IRevealedResults>(sp => sp.GetRequiredService<VotingContracts>());
        s.AddSingleton<ICampaignEditGuard>(sp => sp.GetRequiredService<VotingContracts>());
        s.AddSingleton<IPhaseAction, VotingRevealAction>();
        if (bool.TryParse(builder.Configuration["Demo:Seed"], out var seed) && seed) s.AddSingleton<IStartupTask, VotingDemoSeed>();
    }

    public static void MapVoting(this WebApplication app)
    {
        var staff = app.MapGroup("/api/campaigns/{id}").WithTags("Voting");
        staff.MapGet("/ballot", GetBallot).Requires(Powers.CampaignRead).WithSummary("The campaign's ballot with its ETag.");
        staff.MapPut("/ballot", PutBallot).Requires(Powers.BallotEdit)
            .WithSummary("Create or replace the ballot (If-Match required to replace). Rounds freeze once open.");
        staff.MapPost("/rounds/{roundId}/votes", Vote).RequireAuthorization(Policies.Fan)
            .WithSummary("Cast a vote: 202 with a receipt once the vote is durable. Idempotency-Key makes retries safe.");
        staff.MapGet("/rounds/{roundId}/votes/me", MyVote).RequireAuthorization(Policies.Fan)
            .WithSummary("The caller's own counted vote in the round (no one else's counts).");
        staff.MapGet("/rounds/{roundId}/tally", Tally).Requires(Powers.TallyRead)
            .WithSummary("Live counts for admins (unless the ballot seals them from everyone); the snapshot after the reveal.");
        staff.MapGet("/rounds/{roundId}/refusals", Refusals).Requires(Powers.TallyRead)
            .WithSummary("Refused and invalidated votes with their reasons, and counts per reason.");
        staff.MapPost("/rounds/{roundId}/reveal", Reveal).Requires(Powers.RoundReveal)
            .WithSummary("Freeze and sign the round's counts (idempotent; after the round closes).");
        staff.MapPost("/fans/{fanId}/invalidate", Invalidate).Requires(Powers.FraudInvalidate)
            .WithSummary("Invalidate every vote of a fan in the campaign, with a note; tallies adjust exactly.");
        staff.MapPost("/fans/{fanId}/restore", Restore).Requires(Powers.FraudInvalidate)
            .WithSummary("Reverse an invalidation exactly.");

        app.MapGet("/api/voting/stats", (StorageOps ops) => Results.Ok(new { storageOps = ops.Count, byKind = ops.ByKind }))
            .Requires(Powers.PlatformStats).WithTags("Voting").WithSummary("Storage requests sent by this instance (benchmarks).");

        var pub = app.MapGroup("/api/public").WithTags("Public").Public();
        pub.MapGet("/campaigns/{id}/ballot", PublicBallot).WithSummary("The ballot for microsites: rounds, categories, options; never counts.");
        pub.MapGet("/campaigns/{id}/rounds/{roundId}/results", Results_).WithSummary("Revealed, signed results; 404 until the reveal.");
        pub.MapGet("/voting/reveal-key", (IOptions<VotingOptions> o) =>
        {
            if (string.IsNullOrWhiteSpace(o.Value.RevealSigningKey)) return ApiProblem.NotFound("reveal_key_missing", "The reveal key").ToResult();
            using var key = RevealSigner.LoadKey(o.Value.RevealSigningKey);
            var pk = RevealSigner.PublicKey(key);
            return Results.Ok(new { publicKey = pk, keyId = RevealSigner.KeyId(pk), algorithm = SignedSnapshot.Algorithm });
        }).WithSummary("The public key that verifies reveal snapshots.");
    }

    private static ApiProblem CampaignNotFound => ApiProblem.NotFound("campaign_not_found", "The campaign");
    private static ApiProblem RoundNotFound => ApiProblem.NotFound("round_not_found", "The round");

    private static async Task<IResult> GetBallot(string id, BallotStore ballots, CampaignStore campaigns, HttpContext http, CancellationToken ct)
    {
        if (await campaigns.GetAsync(id, ct) is not { } c) return CampaignNotFound.ToResult();
        if (await ballots.GetAsync(id, ct) is not { } b) return ApiProblem.NotFound("ballot_not_found", "The ballot").ToResult();
        http.Response.Headers.ETag = b.ETag.ToString("H");
        return Results.Ok(View(b.Ballot, c.Campaign, staff: true));
    }

    /// <summary>Load → validate → freeze decision (now) → conditional save, against the version the caller read.</summary>
    private static async Task<IResult> PutBallot(string id, BallotInput input, ClaimsPrincipal user, BallotStore ballots, CampaignStore campaigns,
        IOptions<VotingOptions> options, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        if (await campaigns.GetAsync(id, ct) is not { } c) return CampaignNotFound.ToResult();
        var current = await ballots.GetAsync(id, ct);
        var sent = http.Request.Headers.IfMatch.FirstOrDefault();
        if (current is not null && string.IsNullOrEmpty(sent)) return ApiProblem.PreconditionRequired().ToResult();
        // The freeze is decided against the stored version, so the caller must have read that very version. Table
        // ETags are weak (W/"datetime'…'") and clients may drop the W/: compare the opaque parts, save with the stored tag.
        if (current is { } stored && Opaque(sent!) != Opaque(stored.ETag.ToString("H"))) return ApiProblem.Stale().ToResult();
        var now = time.GetUtcNow();
        var (candidate, errors) = VoteRules.Create(input, c.Campaign, current?.Ballot, options.Value.CounterShards, now);
        if (candidate is null) return ApiProblem.Validation(errors).ToResult();
        var (ballot, frozen) = BallotFreeze.Decide(current?.Ballot, candidate, c.Campaign, user.Subject(), now);
        if (frozen is not null) return frozen.ToResult();
        var etag = await ballots.SaveAsync(ballot!, current?.ETag, ct);
        http.Response.Headers.ETag = etag.ToString("H");
        return Results.Ok(View(ballot!, c.Campaign, staff: true));
    }

    private static string Opaque(string tag) => (tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag).Trim('"');

    private static async Task<IResult> PublicBallot(string id, BallotStore ballots, CampaignStore campaigns, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!CampaignRules.IdPattern().IsMatch(id) || await campaigns.GetCachedAsync(id, ct) is not { } c || !c.IsVisibleToPublic(now))
            return CampaignNotFound.ToResult();
        if (await ballots.GetCachedAsync(id, ct) is not { } b) return ApiProblem.NotFound("ballot_not_found", "The ballot").ToResult();
        http.Response.Headers.CacheControl = "public, max-age=30";
        return Results.Ok(View(b, c, now));
    }

    /// <summary>
    /// Ballot shape only: options keep their configured order, so nothing about counts can be read from it. Staff also
    /// see the audit of changes made to open rounds (extended closes, postponed reveals).
    /// </summary>
    private static BallotView View(Ballot b, Campaign c, DateTimeOffset? now = null, bool staff = false) => new(
        b.CampaignId, b.Mode, b.Tally, b.RequireCaptcha,
        b.Rounds.Select(r =>
        {
            var w = VoteRules.Window(r, c);
            var reveal = VoteRules.RevealAt(r, c);
            return new
            {
                r.Id, r.Title, r.Kind, r.Categories, r.Budget,
                opens = w?.Start, closes = w?.End, reveal,
                opensLocal = w is null ? null : c.Local(w.Start), closesLocal = w is null ? null : c.Local(w.End),
                revealLocal = reveal is { } x ? c.Local(x) : null,
                open = now is { } n && w?.Contains(n) == true,
            };
        }),
        b.UpdatedAt,
        staff ? b.Audit ?? [] : null);

    public sealed record BallotView(string CampaignId, VoteMode Mode, TallyVisibility Tally, bool RequireCaptcha, IEnumerable<object> Rounds,
        DateTimeOffset UpdatedAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        BallotAuditEntry[]? Audit);

    private static async Task<IResult> Vote(string id, string roundId, VoteInput input, ClaimsPrincipal user, HttpContext http,
        CampaignStore campaigns, BallotStore ballots, VoteBuffer buffer, VoteRateLimits limits, ICaptchaVerifier captcha,
        IOptions<VotingOptions> options, ClientAddresses clients, IServiceProvider services, TimeProvider time, ILogger<VoteBuffer> logger, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!CampaignRules.IdPattern().IsMatch(id) || await campaigns.GetCachedAsync(id, ct) is not { } campaign
            || !campaign.IsVisibleToPublic(now) || !campaign.Runs(CampaignFeature.Voting))
            return CampaignNotFound.ToResult();
        if (!VoteRules.IdPattern().IsMatch(roundId) || await ballots.GetCachedAsync(id, ct) is not { } ballot || ballot.Find(roundId) is not { } round)
            return RoundNotFound.ToResult();
        var fan = user.Subject();
        if (fan.Length > VoteRules.MaxFanId || fan.Any(char.IsControl))
            return new ApiProblem(400, "invalid_subject", "The token's subject cannot vote.", $"Subjects are limited to {VoteRules.MaxFanId} characters.").ToResult();
        var key = http.Request.Headers["Idempotency-Key"].FirstOrDefault();
        if (key is not null && !VoteRules.IdempotencyKeyPattern().IsMatch(key))
            return ApiProblem.Validation("Idempotency-Key", "Use 1–64 letters, digits, '-' or '_'.", "invalid_idempotency_key").ToResult();

        Dictionary<string, string> choices;
        string? day = null;
        if (round.Kind == RoundKind.Ballot)
        {
            if (input.EntryId is not null) return ApiProblem.Validation("entryId", "This round is a ballot: send choices.", "not_an_entries_round").ToResult();
            var (checkedChoices, code, message) = VoteRules.CheckChoices(round, input.Choices);
            if (checkedChoices is null) return ApiProblem.Validation("choices", message!, code!).ToResult();
            choices = checkedChoices;
        }
        else
        {
            if (input.Choices is not null) return ApiProblem.Validation("choices", "This round votes on entries: send entryId.", "not_a_ballot_round").ToResult();
            if (input.EntryId is null || !VoteRules.IdempotencyKeyPattern().IsMatch(input.EntryId))
                return ApiProblem.Validation("entryId", "Give the id of an approved entry.", "invalid_entry_id").ToResult();
            if (services.GetService<IEntryDirectory>() is not { } entries)
                return ApiProblem.Conflict("entry_voting_unavailable", "Entry voting needs the submissions capability, which is not running.").ToResult();
            if (await entries.GetAsync(id, input.EntryId, ct) is not { Status: "approved" } entry || entry.CampaignId != id)
                return ApiProblem.NotFound("entry_not_found", "The entry").ToResult();
            choices = new() { [Contracts.EntriesCategory] = entry.EntryId };
            if (round.Budget?.OncePerEntryPerDay == true) day = VoteRules.LocalDay(now, campaign.Zone);
        }

        var ip = clients.Of(http);
        var ipKey = ip is null ? null : VoteRateLimits.IpKey(ip);
        var shard = VoteRules.Shard(fan, round.Shards);
        var o = options.Value;

        // Refused attempts are kept with their reason (group-committed like votes) and then answered with a problem.
        // A fan's flood is kept as its first attempts only, so refusals cannot be used to amplify storage writes.
        async Task<IResult> Refuse(string reason, ApiProblem problem, int? retryAfter = null)
        {
            if (limits.TryFan(id, "refusals|" + fan, RefusalsKeptPerFanPerMinute))
            {
                try { await buffer.AppendAsync(new VoteItem("x" + Guid.NewGuid().ToString("N"), id, roundId, fan, now, shard, choices, reason, day, ipKey)); }
                catch (Exception e) when (VoteBuffer.Transient(e)) { logger.LogWarning(e, "Recording a refused vote failed"); }
            }
            if (retryAfter is { } s) http.Response.Headers.RetryAfter = s.ToString(CultureInfo.InvariantCulture);
            return problem.ToResult();
        }

        if (!VoteRules.IsOpen(round, campaign, now))
        {
            var w = VoteRules.Window(round, campaign);
            return await Refuse(RefusalReasons.WindowClosed, ApiProblem.Conflict("round_closed",
                w is null ? "This round has no voting window." : $"Voting is open from {campaign.Local(w.Start)} until {campaign.Local(w.End)}."));
        }
        if (!limits.TryFan(id, fan, o.PerFanPerMinute))
            return await Refuse(RefusalReasons.RateLimited, new ApiProblem(429, "rate_limited", "Too many votes.", "Wait a little before voting again."),
                Math.Max(1, 60 / o.PerFanPerMinute));
        var ipOk = limits.TryIp(ip, o.PerIpPerMinute);
        if (ballot.RequireCaptcha || !ipOk)
        {
            if (string.IsNullOrWhiteSpace(input.CaptchaToken))
                return ipOk
                    ? ApiProblem.Validation("captchaToken", "Solve the CAPTCHA and send its token.", "captcha_required").ToResult()
                    : await Refuse(RefusalReasons.RateLimited, new ApiProblem(429, "captcha_required", "Many votes come from your network.",
                        "Solve the CAPTCHA and send its token as captchaToken to vote."));
            if (input.CaptchaToken.Length > 4096 || !await captcha.VerifyAsync(input.CaptchaToken, ip?.ToString(), ct))
                return await Refuse(RefusalReasons.CaptchaFailed, new ApiProblem(403, "captcha_failed", "The CAPTCHA could not be verified.", "Solve it again."));
        }
        if (await IneligibleAsync(campaign, fan, user, services, now, ct) is { } why)
            return await Refuse(RefusalReasons.Ineligible, why);
        // The current rules, named with the vote or accepted before (a new version asks again); the vote keeps the version.
        var (noConsent, rulesVersion) = await services.GetService<IFanProfiles>().CheckAsync(campaign, fan, input.RulesVersion, ct);
        if (noConsent is not null) return await Refuse(RefusalReasons.ConsentRequired, noConsent);

        var content = VoteRules.Canonical(choices) + (day is null ? "" : "@" + day);
        var voteId = VoteRules.VoteId(id, roundId, fan, key, content);
        try
        {
            await buffer.AppendAsync(new VoteItem(voteId, id, roundId, fan, now, shard, choices, null, day, ipKey, rulesVersion));
        }
        catch (Exception e) when (VoteBuffer.Transient(e) || e is ObjectDisposedException)
        {
            logger.LogWarning(e, "Vote {VoteId} could not be stored", voteId);
            http.Response.Headers.RetryAfter = "1";
            return new ApiProblem(503, "vote_not_stored", "Your vote could not be stored.", "Send the same request again (same Idempotency-Key).").ToResult();
        }
        return Results.Json(new { voteId, acceptedAt = now, campaignId = id, roundId, choices }, JsonDefaults.Options, statusCode: 202);
    }

    /// <summary>
    /// The fan blocklist (if Moderation runs), then age and country, failing closed (<see cref="FanEligibility"/>): the
    /// token's "birthdate"/"country" claims first, the fan's profile for what the token does not carry.
    /// </summary>
    private static async Task<ApiProblem?> IneligibleAsync(Campaign campaign, string fan, ClaimsPrincipal user, IServiceProvider services,
        DateTimeOffset now, CancellationToken ct)
    {
        if (services.GetService<IFanBlocklist>() is { } blocklist && await blocklist.IsBlockedAsync(campaign.Id, fan, ct))
            return new ApiProblem(403, "ineligible", "You cannot vote in this campaign.", "Your votes in this campaign are blocked.");
        var e = campaign.Eligibility;
        var facts = FanEligibility.FromClaims(user);
        if (FanEligibility.NeedsProfile(e, facts) && services.GetService<IFanProfiles>() is { } profiles)
            facts = FanEligibility.Merge(facts, await profiles.GetProfileAsync(fan, ct));
        return FanEligibility.Check(e, facts, now, "Voters");
    }

    private static async Task<(Campaign, Ballot, Round)?> Find(string id, string roundId, CampaignStore campaigns, BallotStore ballots, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(id) || !VoteRules.IdPattern().IsMatch(roundId)) return null;
        if (await campaigns.GetAsync(id, ct) is not { } c || await ballots.GetAsync(id, ct) is not { } b || b.Ballot.Find(roundId) is not { } r) return null;
        return (c.Campaign, b.Ballot, r);
    }

    private static async Task<IResult> MyVote(string id, string roundId, ClaimsPrincipal user, CampaignStore campaigns, BallotStore ballots,
        VoteCounter counter, CancellationToken ct)
    {
        if (await Find(id, roundId, campaigns, ballots, ct) is not { } found) return RoundNotFound.ToResult();
        var (_, _, round) = found;
        if (await counter.ReadFanVoteAsync(id, round, user.Subject()) is not { } v)
            return ApiProblem.NotFound("vote_not_counted", "A counted vote (votes are counted within seconds of the receipt)").ToResult();
        return Results.Ok(new { v.VoteId, acceptedAt = v.At, v.Choices, entries = v.Entries?.Keys, counted = v.Counted, v.Invalidated, v.Suspended, v.RulesVersion });
    }

    private static async Task<IResult> Tally(string id, string roundId, CampaignStore campaigns, BallotStore ballots, VoteCounter counter,
        RevealService reveal, CancellationToken ct)
    {
        if (await Find(id, roundId, campaigns, ballots, ct) is not { } found) return RoundNotFound.ToResult();
        var (campaign, ballot, round) = found;
        if (await reveal.GetAsync(id, roundId, ct) is { } signed)
            return Results.Ok(new { revealed = true, snapshot = JsonDocument.Parse(signed.Snapshot).RootElement });
        if (ballot.Tally == TallyVisibility.Nobody)
            return new ApiProblem(403, "tally_sealed", "Counts are sealed until the reveal.", "This ballot shows counts to nobody before the reveal.").ToResult();
        var tally = await counter.ReadTallyAsync(id, round, ct);
        var live = RevealSigner.Build(campaign, ballot, round, tally, VoteRules.Window(round, campaign)?.End ?? default, default, "live", "");
        return Results.Ok(new { revealed = false, live.VotesCounted, live.Categories, live.Refusals });
    }

    private static async Task<IResult> Refusals(string id, string roundId, string? reason, int? max, CampaignStore campaigns, BallotStore ballots,
        VoteCounter counter, CancellationToken ct)
    {
        if (await Find(id, roundId, campaigns, ballots, ct) is not { } found) return RoundNotFound.ToResult();
        var (_, _, round) = found;
        if (reason is not null && !RefusalReasons.All.Contains(reason))
            return ApiProblem.Validation("reason", "Use one of: " + string.Join(", ", RefusalReasons.All)).ToResult();
        var tally = await counter.ReadTallyAsync(id, round, ct);
        var items = await counter.ReadRefusalsAsync(id, round, reason, Math.Clamp(max ?? 200, 1, 1000), ct);
        return Results.Ok(new { counts = RefusalReasons.All.ToDictionary(r => r, r => tally.GetValueOrDefault(VoteRules.ReasonRow(r))), items });
    }

    private static async Task<IResult> Reveal(string id, string roundId, ClaimsPrincipal user, CampaignStore campaigns, BallotStore ballots,
        RevealService reveal, CancellationToken ct)
    {
        if (await Find(id, roundId, campaigns, ballots, ct) is not { } found) return RoundNotFound.ToResult();
        var (campaign, ballot, round) = found;
        return Results.Ok(Published(await reveal.RevealAsync(campaign, ballot, round, user.Subject(), ct)));
    }

    private static async Task<IResult> Results_(string id, string roundId, CampaignStore campaigns, BallotStore ballots, RevealService reveal,
        TimeProvider time, CancellationToken ct)
    {
        if (!CampaignRules.IdPattern().IsMatch(id) || await campaigns.GetCachedAsync(id, ct) is not { } c || !c.IsVisibleToPublic(time.GetUtcNow()))
            return CampaignNotFound.ToResult();
        if (!VoteRules.IdPattern().IsMatch(roundId) || await ballots.GetCachedAsync(id, ct) is not { } b || b.Find(roundId) is null)
            return RoundNotFound.ToResult();
        // Identical before the reveal whatever has been voted: no count, size or timing hint.
        if (await reveal.GetAsync(id, roundId, ct) is not { } signed)
            return ApiProblem.NotFound("results_not_revealed", "Results (they are published at the reveal)").ToResult();
        return Results.Ok(Published(signed));
    }

    private static object Published(SignedSnapshot s) => new
    {
        snapshot = JsonDocument.Parse(s.Snapshot).RootElement,
        signedSnapshot = s.Snapshot, signature = s.Signature, publicKey = s.PublicKey, keyId = s.KeyId, algorithm = SignedSnapshot.Algorithm,
    };

    public sealed record InvalidateInput(string Note);

    private static async Task<IResult> Invalidate(string id, string fanId, InvalidateInput input, ClaimsPrincipal user, CampaignStore campaigns,
        IVoteInvalidation invalidation, CancellationToken ct)
    {
        if (await CheckFan(id, fanId, campaigns, ct) is { } problem) return problem.ToResult();
        if (string.IsNullOrWhiteSpace(input.Note) || input.Note.Length > 500)
            return ApiProblem.Validation("note", "Say why, in at most 500 characters.").ToResult();
        return Results.Ok(new { invalidated = await invalidation.InvalidateFanAsync(id, fanId, input.Note.Trim(), user.Subject(), ct) });
    }

    private static async Task<IResult> Restore(string id, string fanId, ClaimsPrincipal user, CampaignStore campaigns, IVoteInvalidation invalidation,
        CancellationToken ct)
    {
        if (await CheckFan(id, fanId, campaigns, ct) is { } problem) return problem.ToResult();
        return Results.Ok(new { restored = await invalidation.RestoreFanAsync(id, fanId, user.Subject(), ct) });
    }

    private static async Task<ApiProblem?> CheckFan(string id, string fanId, CampaignStore campaigns, CancellationToken ct)
    {
        if (fanId.Length > VoteRules.MaxFanId || fanId.Any(char.IsControl)) return ApiProblem.Validation("fanId", "Not a fan id.", "invalid_fan_id");
        return await campaigns.GetAsync(id, ct) is null ? CampaignNotFound : null;
    }
}
