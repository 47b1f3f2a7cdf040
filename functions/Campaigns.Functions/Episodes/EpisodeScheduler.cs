using System.Security.Cryptography;
using System.Text;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Episodes;

public sealed record TickReport(int Published, int PublishedLate, int Skipped, int PhasesRun, int Stale, DateTimeOffset Cursor, int Retried = 0, int Parked = 0);

/// <summary>A due item whose work threw: how often it failed, when it is tried again, or that it is parked for a person.</summary>
public sealed record JobRetry(DueItem Item, int Attempts, DateTimeOffset FirstFailedAt, DateTimeOffset NextAt, string LastError, bool Parked = false)
{
    public const int MaxAttempts = 5;
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Pure: the state after one more failure at <paramref name="now"/>. Delays double (5, 10, 20, 40 minutes) so a
    /// dependency that is down for a while is not hammered; after <see cref="MaxAttempts"/> failures the job is parked —
    /// a bug does not fix itself, and retrying it forever only hides it.
    /// </summary>
    public static JobRetry Fail(JobRetry? previous, DueItem item, string error, DateTimeOffset now)
    {
        var attempts = (previous?.Attempts ?? 0) + 1;
        var message = error.Length > 1000 ? error[..1000] : error;
        return new JobRetry(item, attempts, previous?.FirstFailedAt ?? now, now + FirstDelay * Math.Pow(2, attempts - 1), message, attempts >= MaxAttempts);
    }

    /// <summary>Pure: a parked job a person asked to retry — due at <paramref name="now"/>, parked again by its next failure.</summary>
    public static JobRetry Unpark(JobRetry parked, DateTimeOffset now)
        => parked with { Parked = false, NextAt = now, Attempts = MaxAttempts - 1 };
}

/// <summary>
/// The every-minute UTC timer: publishes due episodes and runs due phases, exactly once. Exactly once comes
/// from the store, not from the timer: a publication is a transaction conditional on the episode's ETag, and a
/// phase run is an insert-if-absent row per (campaign, kind, due instant) — two instances or two overlapping
/// ticks race and one wins. After downtime the cursor is still at the first unfinished hour, so the next tick
/// catches up everything that fell due, late (or skipped, per the campaign's settings).
///
/// A job (publication or phase action) that throws leaves the hourly index for a retry row with its own backoff, and
/// the cursor moves on: one broken reveal must not hold back every other campaign's episodes (the cursor only scans
/// a week per tick). After <see cref="JobRetry.MaxAttempts"/> failures the job is parked: an error log, an entry in the
/// campaign's schedule audit and a row in its parked list, until a person fixes the cause and re-syncs the schedule.
/// The failure is recorded durably instead of escaping; only failures to record it (storage down) fail the tick, and
/// then the cursor stays put so the host's next tick tries everything again.
/// </summary>
public sealed class EpisodeScheduler(
    DueIndex due, EpisodeStore store, CampaignStore campaigns, EpisodeWebhooks webhooks, IEnumerable<IPhaseAction> actions,
    IOptions<EpisodesOptions> options, ILogger<EpisodeScheduler> logger)
{
    public const string TimerName = "EpisodesScheduler", SyncTimerName = "EpisodesPhaseSync";
    /// <summary>Window transitions recorded as phase events (nothing else to run: the phase is derived from the windows).</summary>
    public static readonly string[] WindowKinds = ["entry.open", "entry.close", "voting.open", "voting.close"];
    // Empty hours cost one small query each; a week of downtime is caught up in one tick, longer in several.
    private const int MaxHoursPerTick = 24 * 7, Parallelism = 8;
    private static readonly TimeSpan PhaseLease = TimeSpan.FromMinutes(10);
    private static readonly string Instance = Environment.MachineName + "-" + Guid.NewGuid().ToString("N")[..8];

    public async Task<TickReport> TickAsync(DateTimeOffset now, CancellationToken ct)
    {
        var (cursor, tag) = await due.CursorAsync(now - TimeSpan.FromHours(options.Value.InitialLookbackHours), ct);
        var current = DueIndex.HourStart(now);
        int published = 0, late = 0, skipped = 0, phases = 0, stale = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        DateTimeOffset? pendingFrom = null;
        var hour = cursor;
        for (var n = 0; hour <= current && n < MaxHoursPerTick; hour = hour.AddHours(1), n++)
        {
            var pending = 0;
            // Items are independent (each is its own race-safe transaction), so a busy 19:00 is worked in parallel.
            await Parallel.ForEachAsync(await due.DueAsync(hour, now, ct), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
                async (item, token) =>
                {
                    Outcome outcome;
                    try
                    {
                        try { outcome = await ProcessAsync(item, now, token); }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            // The job failed, not the scheduler: it moves to its retry row (written before the index
                            // entry is deleted below, so it is never lost) and stops pinning the cursor.
                            outcome = await FailedAsync(null, null, item, e, now, token) ? Outcome.Retrying : Outcome.Pending;
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Could not even record the failure: keep going so the others are not held back; the tick fails below.
                        failures.Enqueue(e);
                        outcome = Outcome.Pending;
                    }
                    switch (outcome)
                    {
                        case Outcome.Published: Interlocked.Increment(ref published); break;
                        case Outcome.PublishedLate: Interlocked.Increment(ref published); Interlocked.Increment(ref late); break;
                        case Outcome.Skipped: Interlocked.Increment(ref skipped); break;
                        case Outcome.PhaseRun: Interlocked.Increment(ref phases); break;
                        case Outcome.Stale: Interlocked.Increment(ref stale); break;
                    }
                    if (outcome == Outcome.Pending) Interlocked.Increment(ref pending);
                    else await due.DeleteAsync(item, token);
                });
            if (pending > 0) pendingFrom ??= hour;
        }
        var (retried, parked) = await RetryDueAsync(now, failures, ct);
        var next = pendingFrom ?? (hour > current ? current : hour);
        if (next > cursor) await due.AdvanceAsync(next, tag, ct);
        if (published + skipped + phases > 0)
            logger.LogInformation("Scheduler tick at {Now}: {Published} published ({Late} late), {Skipped} skipped, {Phases} phases, {Stale} stale",
                now, published, late, skipped, phases, stale);
        if (failures.Count > 0) throw new AggregateException("Some due items failed; they are retried next tick.", failures);
        return new TickReport(published, late, skipped, phases, stale, next > cursor ? next : cursor, retried, parked);
    }

    private enum Outcome { Published, PublishedLate, Skipped, PhaseRun, Stale, Done, Pending, Retrying }

    /// <summary>
    /// A person fixed the cause of a parked job: it is unparked and due now, with one attempt left (failing again parks
    /// it again, with a new audit entry). False when no such job is parked (never parked, already retried, or done).
    /// </summary>
    public async Task<JobRetry?> RetryParkedAsync(DueItem item, string actor, DateTimeOffset now, CancellationToken ct)
    {
        if (await due.GetRetryAsync(item, ct) is not { Job.Parked: true } found) return null;
        var job = JobRetry.Unpark(found.Job, now);
        if (!await due.PutRetryAsync(job, found.ETag, ct)) return null; // someone else retried it first
        await store.TryAddAuditAsync(item.CampaignId, new AuditEntry($"audit|retry|{item.RowKey}|{now.UtcTicks:D19}", "job.retry_requested",
            $"{item.Type} {item.Target} due at {item.DueAt:O} is tried again at the next tick, at the request of {actor}.", now, DueAt: item.DueAt), ct);
        await store.DeleteDocAsync(item.CampaignId, ParkedKey(item), ct);
        return job;
    }

    /// <summary>Failed jobs whose backoff ran out: tried again; done, failed again (later retry) or parked.</summary>
    private async Task<(int Retried, int Parked)> RetryDueAsync(DateTimeOffset now, System.Collections.Concurrent.ConcurrentQueue<Exception> failures, CancellationToken ct)
    {
        int retried = 0, parked = 0;
        foreach (var (job, tag) in await due.RetriesDueAsync(now, ct))
        {
            try
            {
                Outcome outcome;
                try { outcome = await ProcessAsync(job.Item, now, ct); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    retried++;
                    if (await FailedAsync(job, tag, job.Item, e, now, ct) && job.Attempts + 1 >= JobRetry.MaxAttempts) parked++;
                    continue;
                }
                retried++;
                if (outcome != Outcome.Pending) await due.DeleteRetryAsync(job, tag, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException) { failures.Enqueue(e); }
        }
        return (retried, parked);
    }

    /// <summary>Records one more failure of a job; parks it (error log, audit entry, parked list) after the last attempt.</summary>
    private async Task<bool> FailedAsync(JobRetry? previous, Azure.ETag? tag, DueItem item, Exception error, DateTimeOffset now, CancellationToken ct)
    {
        var job = JobRetry.Fail(previous, item, error.Message, now);
        if (!await due.PutRetryAsync(job, tag, ct)) return false; // another instance handled this attempt
        if (!job.Parked)
        {
            logger.LogWarning(error, "Scheduled {Type} {Target} of campaign {CampaignId} due {DueAt} failed (attempt {Attempts}); retried at {NextAt}",
                item.Type, item.Target, item.CampaignId, item.DueAt, job.Attempts, job.NextAt);
            return true;
        }
        await store.PutDoc(item.CampaignId, ParkedKey(item), job, ct);
        // Keyed by the instant too: a job retried by a person and parked again gets a second entry.
        await store.TryAddAuditAsync(item.CampaignId, new AuditEntry($"audit|parked|{item.RowKey}|{now.UtcTicks:D19}", "job.parked",
            $"{item.Type} {item.Target} due at {item.DueAt:O} failed {job.Attempts} times and is parked: {job.LastError}", now, DueAt: item.DueAt), ct);
        logger.LogError(error, "Scheduled {Type} {Target} of campaign {CampaignId} due {DueAt} parked after {Attempts} failures",
            item.Type, item.Target, item.CampaignId, item.DueAt, job.Attempts);
        return true;
    }

    public static string ParkedKey(DueItem item) => $"parked|{item.RowKey}";

    private async Task<Outcome> ProcessAsync(DueItem item, DateTimeOffset now, CancellationToken ct)
        => item.Type == DueItem.Episode ? await PublishAsync(item, now, ct) : await RunPhaseAsync(item, now, ct);

    private async Task<Outcome> PublishAsync(DueItem item, DateTimeOffset now, CancellationToken ct)
    {
        if (await store.GetEpisodeAsync(item.CampaignId, item.Target, ct) is not { } found) return Outcome.Stale;
        var e = found.Episode;
        if (e.DueAt != item.DueAt) return Outcome.Stale; // moved: its new time has its own entry
        if (e.State == EpisodeState.Published)
        {
            // Published but the entry survived: the publisher stopped before handing over the webhook.
            if (e.PublishedAt is { } at && now - at > TimeSpan.FromMinutes(2)) await webhooks.EnqueueAsync(e, null, ct);
            return Outcome.Done;
        }
        if (e.State != EpisodeState.Scheduled) return Outcome.Stale;
        var settings = await store.GetSettingsAsync(e.CampaignId, ct);
        var (updated, skip) = EpisodeRules.Publish(e, settings, now);
        if (!await store.CommitDueAsync(updated, found.ETag, skip ? AuditEntry.Missed(e, now) : null, ct))
            return Outcome.Done; // another publisher won the race
        if (skip) return Outcome.Skipped;
        await webhooks.EnqueueAsync(updated, settings, ct);
        return updated.Late ? Outcome.PublishedLate : Outcome.Published;
    }

    private async Task<Outcome> RunPhaseAsync(DueItem item, DateTimeOffset now, CancellationToken ct)
    {
        if (await campaigns.GetAsync(item.CampaignId, ct) is not { } found || found.Campaign.Status == CampaignStatus.Archived)
            return Outcome.Stale;
        var action = actions.FirstOrDefault(a => a.Kind == item.Target);
        var instants = await InstantsAsync(found.Campaign, item.Target, action, ct);
        if (!instants.Contains(item.DueAt)) return Outcome.Stale; // the windows changed since the entry was written
        var run = new PhaseRun(item.CampaignId, item.Target, item.DueAt, PhaseRun.Running, now, Instance,
            Late: now - item.DueAt > TimeSpan.FromMinutes(5));
        if (await store.ClaimPhaseAsync(run, PhaseLease, ct) is not { } claim)
            return await store.IsPhaseDoneAsync(item.CampaignId, run.RowKey, ct) ? Outcome.Done : Outcome.Pending;
        try
        {
            if (action is not null) await action.RunAsync(item.CampaignId, item.DueAt, ct);
        }
        catch
        {
            // Give the claim back so the retry (minutes away, shorter than the lease) may claim it again; the error goes on.
            await store.ReleasePhaseAsync(run, claim, CancellationToken.None);
            throw;
        }
        await store.CompletePhaseAsync(run with { Status = PhaseRun.Done, DoneAt = now }, claim, ct);
        return Outcome.PhaseRun;
    }

    public static IReadOnlyList<(string Kind, DateTimeOffset At)> WindowInstants(Campaign c)
    {
        var list = new List<(string, DateTimeOffset)>();
        if (c.Windows.Entry is { } e) { list.Add(("entry.open", e.Start)); list.Add(("entry.close", e.End)); }
        if (c.Windows.Voting is { } v) { list.Add(("voting.open", v.Start)); list.Add(("voting.close", v.End)); }
        return list;
    }

    private static async Task<IReadOnlyList<DateTimeOffset>> InstantsAsync(Campaign c, string kind, IPhaseAction? action, CancellationToken ct)
    {
        if (action is not null) return await action.DueInstantsAsync(c.Id, ct);
        return WindowInstants(c).Where(x => x.Kind == kind).Select(x => x.At).ToList();
    }

    /// <summary>
    /// Writes the campaign's phase instants (window transitions and every registered action's) into the due index.
    /// Skipped when nothing changed since the last sync (a fingerprint row), so repeated syncs cost one read.
    /// </summary>
    public async Task<int> SyncCampaignAsync(Campaign c, DateTimeOffset now, CancellationToken ct)
    {
        if (c.Status != CampaignStatus.Published) return 0;
        var all = new List<(string Kind, DateTimeOffset At)>(WindowInstants(c));
        foreach (var a in actions)
            foreach (var at in await a.DueInstantsAsync(c.Id, ct))
                all.Add((a.Kind, at));
        var (cursor, _) = await due.CursorAsync(now - TimeSpan.FromHours(options.Value.InitialLookbackHours), ct);
        var wanted = all.Where(x => x.At >= cursor).Distinct().OrderBy(x => x.At).ToList();
        var fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(";", wanted.Select(x => $"{x.Kind}@{x.At.UtcTicks}")))));
        if ((await store.GetDoc<SyncMark>(c.Id, "sync", ct))?.Doc.Fingerprint == fingerprint) return 0;
        foreach (var (kind, at) in wanted) await due.PutAsync(new DueItem(c.Id, DueItem.Phase, kind, at), ct);
        await store.PutDoc(c.Id, "sync", new SyncMark(fingerprint, now), ct);
        return wanted.Count;
    }

    /// <summary>Every five minutes: published campaigns (one partition, few rows) have their phase instants indexed.</summary>
    public async Task<int> SyncAllAsync(DateTimeOffset now, CancellationToken ct)
    {
        var written = 0;
        var failures = new List<Exception>();
        string? continuation = null;
        do
        {
            var (items, next) = await campaigns.ListAsync(CampaignStatus.Published, null, 200, continuation, ct);
            foreach (var c in items)
            {
                // One campaign whose action cannot list its instants must not keep the others unindexed.
                try { written += await SyncCampaignAsync(c, now, ct); }
                catch (Exception e) when (e is not OperationCanceledException) { failures.Add(e); }
            }
            continuation = next;
        } while (continuation is not null);
        if (failures.Count > 0) throw new AggregateException("Some campaigns could not be indexed; retried in five minutes.", failures);
        return written;
    }

    private sealed record SyncMark(string Fingerprint, DateTimeOffset At);
}
