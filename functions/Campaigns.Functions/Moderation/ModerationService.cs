using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Moderation;

public sealed class ModerationOptions
{
    public const string Section = "Moderation";
    /// <summary>How long a claim holds an item before it returns to the queue.</summary>
    public int ClaimLeaseSeconds { get; set; } = 600;
    public int MaxClaimBatch { get; set; } = 50;
    /// <summary>Defaults for campaigns without their own moderation settings.</summary>
    public int ReportHideThreshold { get; set; } = 3;
    public bool AutoApprove { get; set; }
    public bool AutoRejectHardBlocks { get; set; } = true;
    public string HardBlockFlags { get; set; } = "blocklist";
    public double SlaTargetHours { get; set; } = 24;
    /// <summary>Queue of the follow-up that re-applies a decision to its entry if the decider stopped in between.</summary>
    public string ApplyQueue { get; set; } = "moderation-apply";
    /// <summary>How long after a decision its follow-up checks the entry (longer than a decision normally takes).</summary>
    public int ApplyCheckSeconds { get; set; } = 60;

    public ModerationSettings Defaults() => new(AutoApprove, [], AutoRejectHardBlocks,
        HardBlockFlags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), ReportHideThreshold);
}

public sealed class ModerationOptionsValidator : IValidateOptions<ModerationOptions>
{
    public ValidateOptionsResult Validate(string? name, ModerationOptions o)
    {
        var errors = new List<string>();
        if (o.ClaimLeaseSeconds is < 10 or > 86_400) errors.Add("Setting 'Moderation__ClaimLeaseSeconds' must be between 10 and 86400.");
        if (o.MaxClaimBatch is < 1 or > 100) errors.Add("Setting 'Moderation__MaxClaimBatch' must be between 1 and 100.");
        if (o.ReportHideThreshold is < 1 or > 1000) errors.Add("Setting 'Moderation__ReportHideThreshold' must be between 1 and 1000.");
        if (o.SlaTargetHours is <= 0 or > 720) errors.Add("Setting 'Moderation__SlaTargetHours' must be between 0 and 720.");
        if (!StorageNames.IsQueueName(o.ApplyQueue)) errors.Add("Setting 'Moderation__ApplyQueue' must be a storage queue name.");
        if (o.ApplyCheckSeconds is < 1 or > 3600) errors.Add("Setting 'Moderation__ApplyCheckSeconds' must be between 1 and 3600.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// The review queue, reports and blocks. Other capabilities' seams are optional (resolved at call time) so
/// moderation runs before Submissions and Voting are deployed; what was not applied is reported back.
/// </summary>
/// <summary>Test seams for crash scenarios; empty in production.</summary>
public sealed class ModerationFaults
{
    /// <summary>Called just before a report's count is written; throw to simulate a crash between saving and counting.</summary>
    public Func<Task>? BeforeReportCount { get; set; }
    /// <summary>Called after a decision is committed, before it reaches the entry; throw to simulate a crash in between.</summary>
    public Func<Task>? AfterDecisionCommit { get; set; }
}

public sealed class ModerationService(ModerationStore store, IOptions<ModerationOptions> options, TimeProvider time, IServiceProvider services,
    ModerationFaults faults)
    : IReviewQueue, IFanBlocklist
{
    private ModerationOptions O => options.Value;
    private IEntryModeration? Entries => services.GetService<IEntryModeration>();
    // A block suspends votes in moderation's own ledger, never through fraud invalidation: see IVoteSuspension.
    private IVoteSuspension? Votes => services.GetService<IVoteSuspension>();

    public async Task<ModerationSettings> SettingsAsync(string campaignId, CancellationToken ct)
        => await store.GetSettingsAsync(campaignId, ct) ?? O.Defaults();

    /// <summary>Idempotent per entry: a second request for the same entry changes nothing (but re-applies an automatic outcome).</summary>
    public async Task EnqueueAsync(ReviewRequest request, CancellationToken ct)
    {
        if (!Campaigns.CampaignRules.IdPattern().IsMatch(request.CampaignId) || !ModerationRules.EntryIdPattern().IsMatch(request.EntryId))
            throw new ArgumentException($"Review request has an invalid campaign or entry id: {request.CampaignId}/{request.EntryId}.");
        var now = time.GetUtcNow();
        var settings = SettingsAsync(request.CampaignId, ct);
        var blocked = IsBlockedAsync(request.CampaignId, request.OwnerFanId, ct);
        var (item, audit) = ModerationRules.NewItem(request, await settings, await blocked, now);
        if (!await store.InsertAsync(item, audit, ct))
        {
            // Already queued: if an automatic decision was taken, applying it again is harmless and repairs a crash in between.
            if (await store.GetAsync(request.CampaignId, request.EntryId, ct) is { } existing && existing.Item.Automatic && !existing.Item.IsOpen)
                await ApplyAsync(existing.Item, ct);
            return;
        }
        if (!item.IsOpen) await ApplyAsync(item, ct);
    }

    // The vote accept path asks for every vote: a per-campaign set of blocked fans, reloaded every two seconds,
    // costs one query per campaign instead of one read per vote. This instance forgets it on block/unblock; other
    // instances see a change within the TTL (docs/moderation.md).
    private readonly TtlCache<HashSet<string>> _blocked = new(TimeSpan.FromSeconds(2), time);

    public async Task<bool> IsBlockedAsync(string campaignId, string fanId, CancellationToken ct)
    {
        var fans = await _blocked.GetAsync(campaignId, async () =>
            (await store.BlocksAsync(campaignId, CancellationToken.None)).Select(b => b.FanId).ToHashSet(StringComparer.Ordinal));
        return fans!.Contains(fanId);
    }

    public sealed record ApplyCheck(string CampaignId, string EntryId);

    /// <summary>A delayed message that re-applies the item's current state to its entry: the outbox of a decision.</summary>
    private Task FollowUpAsync(string campaignId, string entryId, CancellationToken ct)
        => services.GetRequiredService<StorageClients>().Queue(options.Value.ApplyQueue).SendMessageAsync(
            System.Text.Json.JsonSerializer.Serialize(new ApplyCheck(campaignId, entryId), JsonDefaults.Options),
            visibilityTimeout: TimeSpan.FromSeconds(options.Value.ApplyCheckSeconds), cancellationToken: ct);

    /// <summary>The follow-up's handler: idempotent (applying the same state again changes nothing); errors escape so the host retries.</summary>
    public async Task CheckAppliedAsync(ApplyCheck check, CancellationToken ct)
    {
        if (await store.GetAsync(check.CampaignId, check.EntryId, ct) is not { } found) return;
        var item = found.Item;
        if (item.Status != ReviewStatus.Escalated && (!item.IsOpen || item.Hidden)) await ApplyAsync(item, ct);
    }

    /// <summary>Tells Submissions what the fan and the gallery now see. Returns false when Submissions is not deployed.</summary>
    public async Task<bool> ApplyAsync(ReviewItem item, CancellationToken ct)
    {
        if (Entries is not { } entries) return false;
        var status = item.Hidden && item.IsOpen ? "hidden" : item.Status switch
        {
            ReviewStatus.Approved => "approved",
            ReviewStatus.Rejected => "rejected",
            _ => "pending",
        };
        await entries.ApplyAsync(item.CampaignId, item.EntryId,
            new EntryDecision(status, item.ReasonCode, ModerationRules.ReasonText(item.ReasonCode, item.Locale), item.DecidedBy ?? ModerationRules.AutoActor,
                item.DecidedAt ?? time.GetUtcNow()), ct);
        return true;
    }

    public sealed record ClaimResult(string ClaimId, DateTimeOffset LeaseUntil, List<ReviewItem> Items);

    /// <summary>
    /// Claims up to <paramref name="count"/> claimable items, oldest first. Each claim is an ETag-conditional
    /// write, so when two moderators race for an item exactly one write succeeds; the loser skips it.
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(string campaignId, string actor, int count, ReviewStatus status, string? kind, string? flag, string? locale,
        CancellationToken ct, string? idempotencyKey = null)
    {
        var now = time.GetUtcNow();
        var leaseUntil = now.AddSeconds(O.ClaimLeaseSeconds);
        var claimId = idempotencyKey is null ? Guid.NewGuid().ToString("N") : IdempotencyKeys.Id(idempotencyKey, 32, "claim", campaignId, actor);
        var open = await store.OpenAsync(campaignId, ct);
        // A claim retried with its key answers with the items the first request won while their lease lasts, instead of
        // leasing a second batch the moderator never sees (which would sit out of everyone's reach until it expires).
        var held = open.Select(x => x.Item).Where(i => i.ClaimId == claimId && i.ClaimedBy == actor && i.LeaseUntil > now).ToList();
        if (idempotencyKey is not null && held.Count > 0) return new(claimId, held.Max(i => i.LeaseUntil!.Value), held);
        var etags = open.ToDictionary(x => x.Item.EntryId, x => x.ETag);
        var candidates = ModerationRules.Order(ModerationRules.Filter(open.Select(x => x.Item), status, kind, flag, locale)
            .Where(i => ModerationRules.IsClaimable(i, now)), byPriority: false);
        var won = new List<ReviewItem>();
        using var next = candidates.GetEnumerator();
        // Try as many items at once as are still wanted; each write is independent and conditional, so a lost race only means trying further.
        while (won.Count < count)
        {
            var wave = new List<ReviewItem>();
            while (wave.Count < count - won.Count && next.MoveNext()) wave.Add(ModerationRules.Claim(next.Current, actor, claimId, leaseUntil));
            if (wave.Count == 0) break;
            var ok = await Task.WhenAll(wave.Select(i => store.TryReplaceAsync(i, etags[i.EntryId], ct)));
            won.AddRange(wave.Where((_, k) => ok[k]));
        }
        return new(claimId, leaseUntil, won);
    }

    /// <summary>Gives back items the caller holds, so others can take them before the lease runs out.</summary>
    public async Task<int> ReleaseAsync(string campaignId, string actor, IEnumerable<string> entryIds, CancellationToken ct)
    {
        var released = 0;
        foreach (var id in entryIds)
        {
            if (await store.GetAsync(campaignId, id, ct) is not { } found || found.Item.ClaimedBy != actor || !found.Item.IsOpen) continue;
            if (await store.TryReplaceAsync(found.Item with { ClaimedBy = null, ClaimId = null, LeaseUntil = null }, found.ETag, ct)) released++;
        }
        return released;
    }

    public sealed record DecisionResult(string EntryId, ReviewItem? Item, Refusal? Refused, bool Applied);

    public async Task<DecisionResult> DecideAsync(string campaignId, string entryId, ReviewAction action, string? reasonCode, string? note,
        string actor, bool isAdmin, CancellationToken ct)
    {
        if (!ModerationRules.EntryIdPattern().IsMatch(entryId) || await store.GetAsync(campaignId, entryId, ct) is not { } found)
            return new(entryId, null, new(404, "item_not_found", $"No review item '{entryId}' in this campaign."), false);
        var now = time.GetUtcNow();
        var (next, audit, refused) = ModerationRules.Decide(found.Item, action, reasonCode, note, actor, isAdmin, now);
        if (refused is not null) return new(entryId, found.Item, refused, false);
        if (next is null) return new(entryId, found.Item, null, await ApplyAsync(found.Item, ct)); // a retry of the same decision
        // The follow-up goes first: whatever happens after the commit, the entry is brought in line with the item.
        await FollowUpAsync(campaignId, entryId, ct);
        if (!await store.CommitAsync(next, found.ETag, audit!, ct))
            return new(entryId, found.Item, new(409, "item_changed", "The item changed while you decided it; read it again."), false);
        if (faults.AfterDecisionCommit is { } crash) await crash();
        var applied = next.Status != ReviewStatus.Escalated && await ApplyAsync(next, ct);
        return new(entryId, next, null, applied);
    }

    public sealed record ReportResult(bool Counted, bool Hidden, Refusal? Refused);

    public async Task<ReportResult> ReportAsync(string campaignId, string entryId, string fanId, ReportInput input, CancellationToken ct)
    {
        if (!ModerationRules.EntryIdPattern().IsMatch(entryId) || await store.GetAsync(campaignId, entryId, ct) is not { } found ||
            found.Item.Status != ReviewStatus.Approved && !found.Item.Hidden)
            return new(false, false, new(404, "entry_not_found", "No approved entry with this id in the campaign."));
        if (found.Item.OwnerFanId == fanId) return new(false, false, new(409, "own_entry", "You cannot report your own entry."));
        var now = time.GetUtcNow();
        var threshold = (await SettingsAsync(campaignId, ct)).ReportHideThreshold;
        // Concurrent reports race on the item's ETag: re-read and retry a bounded number of times.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var (next, audit) = ModerationRules.Report(found.Item, threshold, now);
            if (faults.BeforeReportCount is { } fault) await fault();
            if (audit is not null) await FollowUpAsync(campaignId, entryId, ct);
            switch (await store.AddCountedReportAsync(fanId, input, now, next, found.ETag, audit, ct))
            {
                case ModerationStore.ReportWrite.AlreadyReported:
                    return new(false, found.Item.Hidden, null);
                case ModerationStore.ReportWrite.Counted:
                    if (audit is not null) await ApplyAsync(next, ct);
                    return new(true, next.Hidden, null);
            }
            found = (await store.GetAsync(campaignId, entryId, ct))!.Value;
        }
        throw new InvalidOperationException($"Could not count a report on {campaignId}/{entryId} after 20 attempts.");
    }

    public sealed record BlockResult(FanBlock Block, bool EntriesApplied, bool VotesApplied);

    /// <summary>
    /// Blocks a fan: the block row is written first (so new entries are flagged at once), then every entry is hidden
    /// and every vote suspended through the owners' seams; what they changed is recorded for the unblock.
    /// Repeating a block repeats the (idempotent) side effects, which repairs a block interrupted half-way.
    /// </summary>
    public async Task<BlockResult> BlockAsync(string campaignId, string fanId, string? reason, string actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var current = await store.GetBlockAsync(campaignId, fanId, ct);
        FanBlock block;
        if (current is { Block.Blocked: true } held) block = held.Block;
        else
        {
            var version = (current?.Block.Version ?? 0) + 1;
            block = new FanBlock(campaignId, fanId, true, version, actor, now, reason, 0, 0);
            var audit = new AuditRecord(campaignId, ModerationStore.FanSubject(fanId), version, "block", actor, false, now,
                current is null ? "active" : "unblocked", "blocked", null, reason);
            if (!await store.CommitBlockAsync(block, current?.ETag, audit, ct))
                throw new ProblemException(ApiProblem.Conflict("block_changed", "The fan's block changed meanwhile; try again."));
        }
        _blocked.Forget(campaignId);
        var hidden = Entries is { } e ? await e.SetOwnerHiddenAsync(campaignId, fanId, true, ct) : 0;
        var invalidated = Votes is { } v ? await v.SuspendFanAsync(campaignId, fanId, block.Reason ?? "blocked by moderation", actor, ct) : 0;
        if (hidden + invalidated > 0 && await store.GetBlockAsync(campaignId, fanId, ct) is { } latest)
        {
            block = latest.Block with { EntriesHidden = latest.Block.EntriesHidden + hidden, VotesInvalidated = latest.Block.VotesInvalidated + invalidated };
            var counts = new AuditRecord(campaignId, ModerationStore.FanSubject(fanId), block.Version + 1, "block_applied", actor, false, now,
                "blocked", "blocked", null, null, new() { ["entriesHidden"] = hidden, ["votesInvalidated"] = invalidated });
            block = block with { Version = block.Version + 1 };
            if (!await store.CommitBlockAsync(block, latest.ETag, counts, ct))
                throw new ProblemException(ApiProblem.Conflict("block_changed", "The fan's block changed meanwhile; try again."));
        }
        return new(block, Entries is not null, Votes is not null);
    }

    /// <summary>
    /// Shows entries and lifts the vote suspension first, then clears the row, so an interrupted unblock can be retried.
    /// A fraud invalidation of the same fan stays: it is not moderation's to lift.
    /// </summary>
    public async Task<BlockResult?> UnblockAsync(string campaignId, string fanId, string actor, CancellationToken ct)
    {
        if (await store.GetBlockAsync(campaignId, fanId, ct) is not { Block.Blocked: true } current) return null;
        var shown = Entries is { } e ? await e.SetOwnerHiddenAsync(campaignId, fanId, false, ct) : 0;
        var restored = Votes is { } v ? await v.LiftSuspensionAsync(campaignId, fanId, actor, ct) : 0;
        var now = time.GetUtcNow();
        var block = current.Block with { Blocked = false, Version = current.Block.Version + 1, Actor = actor, At = now, EntriesHidden = 0, VotesInvalidated = 0 };
        var audit = new AuditRecord(campaignId, ModerationStore.FanSubject(fanId), block.Version, "unblock", actor, false, now, "blocked", "unblocked",
            null, null, new() { ["entriesRestored"] = shown, ["votesRestored"] = restored });
        if (!await store.CommitBlockAsync(block, current.ETag, audit, ct))
            throw new ProblemException(ApiProblem.Conflict("block_changed", "The fan's block changed meanwhile; try again."));
        _blocked.Forget(campaignId);
        return new(block, Entries is not null, Votes is not null);
    }
}
