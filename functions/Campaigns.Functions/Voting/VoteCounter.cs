using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

/// <summary>
/// Applies votes to sharded tallies exactly once. Partition <c>{campaign}|{round}|{shard}</c> holds, for the fans
/// hashed to that shard, one row per fan (their counted choices and the id of the vote applied) plus the counter rows
/// those fans move. A vote and the counter changes it causes are written in ONE transaction, so either both land or
/// neither: a fan row that already carries the vote id means "already counted" (retry, redelivery, restart).
///
/// Group commit on this side too: work from every message being handled concurrently is merged per partition, so one
/// transaction (≤ 100 entities) applies many votes. Within the process a partition has one committer at a time (no
/// ETag fights); across instances the counter rows' ETags serialise writers.
/// </summary>
public sealed class VoteCounter(StorageClients storage, BallotStore ballots, VotingFaults faults, TimeProvider time,
    IOptions<VotingOptions> options, ILogger<VoteCounter> logger)
{
    public const string TableName = "votes";
    private const int MaxEntities = 100;
    private const int MaxTake = 90;
    private const int MaxAttempts = 40;

    private readonly ConcurrentDictionary<string, Partition> _partitions = new();
    // Transactions in flight at once, across partitions. A partition waiting for a slot keeps collecting votes, so under
    // load transactions grow (up to 100 entities) instead of multiplying: fewer storage operations per vote.
    private readonly SemaphoreSlim _commitSlots = new(options.Value.CounterConcurrency);
    private TableClient Table => storage.Table(TableName);

    /// <summary>The one row holding every count of a partition except entry counts (JSON in <c>Counts</c>).</summary>
    public const string PackedRow = "n|all";
    private static readonly string EntryCountPrefix = VoteRules.CountRow(Contracts.EntriesCategory, "");

    public static string PartitionKey(string campaign, string round, int shard) => $"{campaign}|{round}|{shard:D2}";
    public static string FanRow(string fan) => "f|" + TableKeys.Escape(fan);

    /// <summary>
    /// A round's backlog: one row per queue message (row key = its batch id) carrying votes of the round, written before
    /// the message is sent and deleted once the counter applied it. The reveal waits while the partition has rows —
    /// its own round's votes only, not the shared queue. A message that fails, retries or sits in poison keeps its row,
    /// so the reveal never freezes a tally that is missing acknowledged votes.
    /// </summary>
    public static string BacklogPartition(string campaign, string round) => $"{campaign}|{round}|backlog";

    public async Task MarkBacklogAsync(string batchId, IEnumerable<(string Campaign, string Round)> rounds, DateTimeOffset now)
        => await Task.WhenAll(rounds.Distinct().Select(r => Table.UpsertEntityAsync(
            new TableEntity(BacklogPartition(r.Campaign, r.Round), batchId) { ["At"] = now }, TableUpdateMode.Replace)));

    public async Task ClearBacklogAsync(string batchId, IEnumerable<(string Campaign, string Round)> rounds)
        => await Task.WhenAll(rounds.Distinct().Select(async r =>
        {
            try { await Table.DeleteEntityAsync(BacklogPartition(r.Campaign, r.Round), batchId, ETag.All); }
            catch (RequestFailedException e) when (e.Status == 404) { } // cleared by an earlier delivery
        }));

    /// <summary>True while a queue message with votes of this round has not been applied (see <see cref="BacklogPartition"/>).</summary>
    public async Task<bool> HasBacklogAsync(string campaign, string round, CancellationToken ct)
    {
        await foreach (var _ in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {BacklogPartition(campaign, round)}"),
                           maxPerPage: 1, select: ["RowKey"], cancellationToken: ct))
            return true;
        return false;
    }

    /// <summary>
    /// Where a count is stored. A ballot round has at most 48 options, so all its counts share one row and a transaction
    /// rewrites one counter entity, not one per option (fewer entities and request units per vote). Entry counts keep a
    /// row each (property <c>N</c>): a round may have any number of entries.
    /// </summary>
    public static string CounterRowOf(string count) => count.StartsWith(EntryCountPrefix, StringComparison.Ordinal) ? count : PackedRow;

    /// <summary>The queue trigger: one message carries a group-committed batch of votes and refusals.</summary>
    public static Task HandleAsync(Hosting.FunctionInvocation invocation)
        => invocation.Service<VoteCounter>().ApplyAsync(invocation.QueueMessage<VoteBatch>(JsonDefaults.Options), invocation.Cancellation);

    public async Task ApplyAsync(VoteBatch batch, CancellationToken ct)
    {
        if (faults.BeforeCount is { } fault) await fault(batch);
        var works = new List<(string Pk, Work Work)>();
        var orphans = new List<(VoteItem Item, string Why)>();
        foreach (var item in batch.Items)
        {
            var ballot = await ballots.GetCachedAsync(item.Campaign, ct);
            var round = ballot?.Find(item.Round);
            var why = VoteRules.Invalid(item, ballot, round);
            if (round is null) { orphans.Add((item, why!)); continue; }
            // Still in a round: refused like any other attempt (counted under "invalid", listed in the round's refusals).
            var counted = why is null ? item : item with { Refused = RefusalReasons.Invalid };
            if (why is not null) logger.LogWarning("Vote {VoteId} of campaign {CampaignId} is refused as invalid: {Why}", item.Id, item.Campaign, why);
            works.Add((PartitionKey(item.Campaign, item.Round, item.Shard), new Work(counted, null, ballot!.Mode, round)));
        }
        await Task.WhenAll(works.GroupBy(w => w.Pk).Select(g => Submit(g.Key, g.Select(x => x.Work).ToList()))
            .Concat(orphans.Select(o => RecordOrphanAsync(o.Item, o.Why, ct))));
        // Only after everything is applied: a failure above keeps the rounds' backlog rows, so their reveals wait.
        await ClearBacklogAsync(batch.BatchId, batch.Items.Select(i => (i.Campaign, i.Round)));
    }

    /// <summary>
    /// An item naming a round (or campaign ballot) that no longer exists: there is no tally to move, so it is kept as a
    /// refusal row under the round it named (evidence; insert-if-absent, so a redelivery changes nothing).
    /// </summary>
    private async Task RecordOrphanAsync(VoteItem item, string why, CancellationToken ct)
    {
        logger.LogWarning("Vote {VoteId} of campaign {CampaignId} is refused as invalid: {Why}", item.Id, item.Campaign, why);
        try
        {
            await Table.AddEntityAsync(new TableEntity(PartitionKey(item.Campaign, item.Round, item.Shard), "x|" + item.Id)
            {
                ["VoteId"] = item.Id, ["Fan"] = item.Fan, ["Reason"] = RefusalReasons.Invalid, ["Detail"] = why, ["At"] = item.At, ["Ip"] = item.Ip,
                ["Choices"] = item.Choices is null ? null : JsonSerializer.Serialize(item.Choices, JsonDefaults.Options),
            }, ct);
        }
        catch (RequestFailedException e) when (e.Status == 409) { } // recorded by an earlier delivery
    }

    /// <summary>Puts or lifts one ledger's hold on a fan's row in a round; returns how many votes the hold covers.</summary>
    public async Task<int> AdminAsync(Ballot ballot, Round round, string fan, AdminOp op)
    {
        var pk = PartitionKey(ballot.CampaignId, round.Id, VoteRules.Shard(fan, round.Shards));
        var work = new Work(null, op with { Fan = fan }, ballot.Mode, round);
        await Submit(pk, [work]);
        return await work.Done.Task;
    }

    private Task Submit(string pk, List<Work> works)
    {
        var p = _partitions.GetOrAdd(pk, k => new Partition(k));
        var start = false;
        lock (p)
        {
            p.Pending.AddRange(works);
            if (!p.Running) { p.Running = start = true; }
        }
        if (start) _ = Task.Run(() => CommitLoopAsync(p));
        return Task.WhenAll(works.Select(w => (Task)w.Done.Task));
    }

    private async Task CommitLoopAsync(Partition p)
    {
        while (true)
        {
            await _commitSlots.WaitAsync();
            List<Work> take;
            try
            {
                lock (p)
                {
                    if (p.Pending.Count == 0) { p.Running = false; return; }
                    take = p.Pending.Take(MaxTake).ToList();
                    p.Pending.RemoveRange(0, take.Count);
                }
                try
                {
                    var leftover = await CommitAsync(p, take);
                    if (leftover.Count > 0) lock (p) p.Pending.InsertRange(0, leftover);
                }
                catch (Exception e)
                {
                    p.Counters = null;
                    logger.LogWarning(e, "Counting in partition {Partition} failed; the message will be delivered again", p.Key);
                    foreach (var w in take) w.Done.TrySetException(e);
                }
            }
            finally { _commitSlots.Release(); }
        }
    }

    /// <summary>Commits as many of <paramref name="works"/> as fit one transaction; returns those that did not fit.</summary>
    private async Task<List<Work>> CommitAsync(Partition p, List<Work> works)
    {
        var known = new Dictionary<string, (FanVote? Fan, ETag ETag)>();
        var recorded = new HashSet<string>();
        foreach (var w in works.Where(w => w.Op is not null)) known[FanRow(w.Op!.Fan)] = await ReadFanAsync(p.Key, FanRow(w.Op!.Fan));
        var backoff = 0;
        for (var attempt = 1; ; attempt++)
        {
            p.Counters ??= await ReadCounterRowsAsync(p.Key, works[0].Round, CancellationToken.None);
            var ordered = works.OrderBy(w => w.Op is null ? 0 : 1).ThenBy(w => w.Vote?.At).ThenBy(w => w.Vote?.Id, StringComparer.Ordinal).ToList();
            var leftover = new List<Work>();
            Plan plan;
            while (true)
            {
                plan = Build(p, ordered, known, recorded);
                if (plan.Actions.Count <= MaxEntities || ordered.Count == 1) break;
                leftover.Insert(0, ordered[^1]);
                ordered.RemoveAt(ordered.Count - 1);
            }
            if (plan.Actions.Count == 0)
            {
                foreach (var w in ordered) w.Done.TrySetResult(plan.Changed.GetValueOrDefault(w));
                return leftover;
            }
            try
            {
                var response = await Table.SubmitTransactionAsync(plan.Actions);
                for (var i = 0; i < plan.Actions.Count; i++)
                {
                    if (plan.Counters[i] is { } row && response.Value[i].Headers.ETag is { } etag)
                        p.Counters[row.RowKey] = (row.Counts, etag);
                }
                if (faults.AfterCommit is { } fault) await fault(p.Key);
                foreach (var w in ordered) w.Done.TrySetResult(plan.Changed.GetValueOrDefault(w));
                return leftover;
            }
            catch (TableTransactionFailedException e) when (attempt < MaxAttempts)
            {
                var index = e.FailedTransactionActionIndex;
                var failed = index is { } i && i >= 0 && i < plan.Actions.Count ? plan.Actions[i].Entity : null;
                var rk = failed?.RowKey ?? "";
                if (rk.StartsWith("f|", StringComparison.Ordinal))
                {
                    known[rk] = await ReadFanAsync(p.Key, rk); // exists already, or changed since read: learn its state
                }
                else if (rk.StartsWith("x|", StringComparison.Ordinal) && e.Status == 409)
                {
                    recorded.Add(rk); // this refusal was recorded by an earlier delivery
                }
                else if (rk.StartsWith("n|", StringComparison.Ordinal))
                {
                    p.Counters = null; // another writer moved a counter: re-read them
                }
                else
                {
                    // The store did not say which action failed: re-read everything this transaction touched.
                    p.Counters = null;
                    foreach (var row in plan.Actions.Select(a => a.Entity.RowKey).Where(r => r.StartsWith("f|", StringComparison.Ordinal)))
                        known[row] = await ReadFanAsync(p.Key, row);
                    foreach (var row in plan.Actions.Select(a => a.Entity.RowKey).Where(r => r.StartsWith("x|", StringComparison.Ordinal)))
                        if ((await Table.GetEntityIfExistsAsync<TableEntity>(p.Key, row, ["PartitionKey"])).HasValue) recorded.Add(row);
                }
            }
            catch (RequestFailedException e) when (VoteBuffer.Transient(e) && backoff < 8)
            {
                // Throttled (429/503) or a transient error: back off, keep the batch, try again.
                await Task.Delay(TimeSpan.FromMilliseconds(100 * Math.Pow(2, backoff++) + Random.Shared.Next(50)));
                p.Counters = null;
            }
        }
    }

    private Plan Build(Partition p, List<Work> works, Dictionary<string, (FanVote? Fan, ETag ETag)> known, HashSet<string> recorded)
    {
        var state = known.ToDictionary(kv => kv.Key, kv => kv.Value.Fan);
        var changedFans = new List<string>();
        var deltas = new Dictionary<string, long>();
        var refusals = new List<(string Row, VoteItem Vote, string Reason)>();
        var changed = new Dictionary<Work, int>();
        foreach (var w in works)
        {
            string rk;
            VoteDecision d;
            if (w.Op is { } op)
            {
                rk = FanRow(op.Fan);
                var current = state.GetValueOrDefault(rk);
                d = VoteRules.Apply(current, op, time.GetUtcNow());
                if (!d.Skip) changed[w] = current?.VoteCount ?? 0;
            }
            else
            {
                var vote = w.Vote!;
                rk = FanRow(vote.Fan);
                d = VoteRules.Apply(state.GetValueOrDefault(rk), vote, w.Mode, w.Round);
                if (d.Refusal is { } reason)
                {
                    var row = "x|" + vote.Id;
                    if (recorded.Contains(row) || refusals.Any(r => r.Row == row)) continue;
                    refusals.Add((row, vote, reason));
                    foreach (var delta in d.Deltas) deltas[delta.RowKey] = deltas.GetValueOrDefault(delta.RowKey) + delta.Delta;
                    continue;
                }
            }
            if (d.Skip) continue;
            foreach (var delta in d.Deltas) deltas[delta.RowKey] = deltas.GetValueOrDefault(delta.RowKey) + delta.Delta;
            state[rk] = d.Next;
            if (!changedFans.Contains(rk)) changedFans.Add(rk);
        }

        var actions = new List<TableTransactionAction>();
        var counters = new List<(string RowKey, Dictionary<string, long> Counts)?>();
        foreach (var rk in changedFans)
        {
            var fan = state[rk]!;
            var entity = new TableEntity(p.Key, rk)
            {
                ["Fan"] = fan.FanId,
                ["Counted"] = fan.Counted,
                ["Invalidated"] = fan.Invalidated,
                ["Suspended"] = fan.Suspended,
                ["Doc"] = JsonSerializer.Serialize(fan, JsonDefaults.Options),
            };
            actions.Add(known.TryGetValue(rk, out var k) && k.Fan is not null
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, k.ETag)
                : new TableTransactionAction(TableTransactionActionType.Add, entity));
            counters.Add(null);
        }
        foreach (var (row, vote, reason) in refusals)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(p.Key, row)
            {
                ["VoteId"] = vote.Id, ["Fan"] = vote.Fan, ["Reason"] = reason, ["At"] = vote.At, ["Ip"] = vote.Ip,
                ["Choices"] = vote.Choices is null ? null : JsonSerializer.Serialize(vote.Choices, JsonDefaults.Options),
            }));
            counters.Add(null);
        }
        foreach (var group in deltas.Where(d => d.Value != 0).GroupBy(d => CounterRowOf(d.Key)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var exists = p.Counters!.TryGetValue(group.Key, out var current);
            var counts = exists ? new Dictionary<string, long>(current.Counts) : [];
            foreach (var (count, delta) in group) counts[count] = counts.GetValueOrDefault(count) + delta;
            var entity = new TableEntity(p.Key, group.Key);
            if (group.Key == PackedRow) entity["Counts"] = JsonSerializer.Serialize(counts.Where(c => c.Value != 0).ToDictionary(), JsonDefaults.Options);
            else entity["N"] = counts.GetValueOrDefault(group.Key);
            actions.Add(exists
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, current.ETag)
                : new TableTransactionAction(TableTransactionActionType.Add, entity));
            counters.Add((group.Key, counts));
        }
        return new Plan(actions, counters, changed);
    }

    private async Task<(FanVote? Fan, ETag ETag)> ReadFanAsync(string pk, string rk)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, ["Doc"]);
        if (!r.HasValue || r.Value is null) return (null, default);
        return (JsonSerializer.Deserialize<FanVote>(r.Value.GetString("Doc"), JsonDefaults.Options), r.Value.ETag);
    }

    /// <summary>The counter rows of one partition: for a ballot round a point read of the packed row, else a range of rows.</summary>
    private async Task<Dictionary<string, (Dictionary<string, long> Counts, ETag ETag)>> ReadCounterRowsAsync(string pk, Round round, CancellationToken ct)
    {
        var result = new Dictionary<string, (Dictionary<string, long>, ETag)>();
        void Add(TableEntity e) => result[e.RowKey] = (e.RowKey == PackedRow
            ? JsonSerializer.Deserialize<Dictionary<string, long>>(e.GetString("Counts") ?? "{}", JsonDefaults.Options) ?? []
            : new Dictionary<string, long> { [e.RowKey] = e.GetInt64("N") ?? 0 }, e.ETag);
        if (round.Kind == RoundKind.Ballot)
        {
            var packed = await Table.GetEntityIfExistsAsync<TableEntity>(pk, PackedRow, ["RowKey", "Counts"], ct);
            if (packed.HasValue && packed.Value is not null) Add(packed.Value);
            return result;
        }
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"n|"} and RowKey lt {"n}"}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["RowKey", "N", "Counts"], cancellationToken: ct)) Add(e);
        return result;
    }

    /// <summary>Live counts of a round: the sum over its shards. Costs one read per shard whatever the number of votes.</summary>
    public async Task<Dictionary<string, long>> ReadTallyAsync(string campaign, Round round, CancellationToken ct)
    {
        var parts = await Task.WhenAll(Enumerable.Range(0, round.Shards).Select(s => ReadCounterRowsAsync(PartitionKey(campaign, round.Id, s), round, ct)));
        var sum = new Dictionary<string, long>();
        foreach (var part in parts)
            foreach (var row in part.Values)
                foreach (var (count, n) in row.Counts) sum[count] = sum.GetValueOrDefault(count) + n;
        return sum;
    }

    /// <summary>Refused and held (invalidated, suspended) votes of a round, with their reasons and ledgers (evidence for admins).</summary>
    public async Task<List<RefusedVote>> ReadRefusalsAsync(string campaign, Round round, string? reason, int max, CancellationToken ct)
    {
        var list = new List<RefusedVote>();
        for (var s = 0; s < round.Shards && list.Count < max; s++)
        {
            var pk = PartitionKey(campaign, round.Id, s);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"x|"} and RowKey lt {"x}"}");
            await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
            {
                if (reason is not null && e.GetString("Reason") != reason) continue;
                list.Add(new RefusedVote(e.GetString("VoteId"), e.GetString("Fan"), e.GetString("Reason"), e.GetDateTimeOffset("At") ?? default,
                    e.GetString("Ip"), e.GetString("Choices") is { } c ? JsonSerializer.Deserialize<Dictionary<string, string>>(c, JsonDefaults.Options) : null, null));
                if (list.Count >= max) break;
            }
            if (reason is null or RefusalReasons.Invalidated or RefusalReasons.Suspended)
            {
                var held = TableClient.CreateQueryFilter(
                    $"PartitionKey eq {pk} and RowKey ge {"f|"} and RowKey lt {"f}"} and (Invalidated eq true or Suspended eq true)");
                await foreach (var e in Table.QueryAsync<TableEntity>(held, cancellationToken: ct))
                {
                    var fan = JsonSerializer.Deserialize<FanVote>(e.GetString("Doc"), JsonDefaults.Options)!;
                    // Listed under the reason its votes are counted under (fraud first), like the counts per reason.
                    var why = fan.Invalidated ? RefusalReasons.Invalidated : RefusalReasons.Suspended;
                    if (reason is not null && reason != why) continue;
                    list.Add(new RefusedVote(fan.VoteId, fan.FanId, why, (fan.Invalidated ? fan.InvalidatedAt : fan.SuspendedAt) ?? fan.At, null,
                        fan.Choices, fan.Invalidated ? fan.InvalidatedNote : fan.SuspendedReason, fan.Ledger ?? []));
                    if (list.Count >= max) break;
                }
            }
        }
        return list;
    }

    /// <summary>The fan's own row in a round (their receipt), or null.</summary>
    public async Task<FanVote?> ReadFanVoteAsync(string campaign, Round round, string fan)
        => (await ReadFanAsync(PartitionKey(campaign, round.Id, VoteRules.Shard(fan, round.Shards)), FanRow(fan))).Fan;

    public async IAsyncEnumerable<string> CountedFansAsync(string campaign, Round round, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        for (var s = 0; s < round.Shards; s++)
        {
            var pk = PartitionKey(campaign, round.Id, s);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"f|"} and RowKey lt {"f}"} and Counted eq true");
            await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["Fan"], cancellationToken: ct))
                yield return e.GetString("Fan");
        }
    }

    /// <summary>The counted fan rows of a round (their latest vote and what it contributes).</summary>
    public async IAsyncEnumerable<FanVote> CountedFanVotesAsync(string campaign, Round round, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        for (var s = 0; s < round.Shards; s++)
        {
            var pk = PartitionKey(campaign, round.Id, s);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"f|"} and RowKey lt {"f}"} and Counted eq true");
            await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["Doc"], cancellationToken: ct))
                yield return JsonSerializer.Deserialize<FanVote>(e.GetString("Doc"), JsonDefaults.Options)!;
        }
    }

    private sealed class Partition(string key)
    {
        public string Key { get; } = key;
        public List<Work> Pending { get; } = [];
        public bool Running;
        /// <summary>The partition's counter rows as last written or read (counts, ETag); null = read them again.</summary>
        public Dictionary<string, (Dictionary<string, long> Counts, ETag ETag)>? Counters;
    }

    private sealed record Plan(List<TableTransactionAction> Actions, List<(string RowKey, Dictionary<string, long> Counts)?> Counters, Dictionary<Work, int> Changed);

    private sealed class Work(VoteItem? vote, AdminOp? op, VoteMode mode, Round round)
    {
        public VoteItem? Vote { get; } = vote;
        public AdminOp? Op { get; } = op;
        public VoteMode Mode { get; } = mode;
        public Round Round { get; } = round;
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A hold put on (with a note) or lifted from one fan's row, in one ledger (fraud: admins; moderation: blocks).</summary>
public sealed record AdminOp(HoldLedger Ledger, bool Lift, string Actor, string? Note, string Fan = "");

public sealed record RefusedVote(string? VoteId, string? Fan, string? Reason, DateTimeOffset At, string? Ip,
    Dictionary<string, string>? Choices, string? Note, VoteLedgerEntry[]? Ledger = null);
