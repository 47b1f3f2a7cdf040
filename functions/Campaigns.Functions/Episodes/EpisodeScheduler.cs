using System.Security.Cryptography;
using System.Text;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Episodes;

public sealed record TickReport(int Published, int PublishedLate, int Skipped, int PhasesRun, int Stale, DateTimeOffset Cursor);

/// <summary>
/// The every-minute UTC timer: publishes due episodes and runs due phases, exactly once. Exactly once comes
/// from the store, not from the timer: a publication is a transaction conditional on the episode's ETag, and a
/// phase run is an insert-if-absent row per (campaign, kind, due instant) — two instances or two overlapping
/// ticks race and one wins. After downtime the cursor is still at the first unfinished hour, so the next tick
/// catches up everything that fell due, late (or skipped, per the campaign's settings).
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
                    try { outcome = await ProcessAsync(item, now, token); }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Keep going so one failing campaign does not hold back the others; the tick still fails below.
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
        var next = pendingFrom ?? (hour > current ? current : hour);
        if (next > cursor) await due.AdvanceAsync(next, tag, ct);
        if (published + skipped + phases > 0)
            logger.LogInformation("Scheduler tick at {Now}: {Published} published ({Late} late), {Skipped} skipped, {Phases} phases, {Stale} stale",
                now, published, late, skipped, phases, stale);
        if (failures.Count > 0) throw new AggregateException("Some due items failed; they are retried next tick.", failures);
        return new TickReport(published, late, skipped, phases, stale, next > cursor ? next : cursor);
    }

    private enum Outcome { Published, PublishedLate, Skipped, PhaseRun, Stale, Done, Pending }

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
        if (action is not null) await action.RunAsync(item.CampaignId, item.DueAt, ct);
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
