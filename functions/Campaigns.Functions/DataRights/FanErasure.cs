using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Campaigns.Campaigns;
using Campaigns.Judging;
using Campaigns.Labels;
using Campaigns.Moderation;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Voting;
using Campaigns.Winners;
using Microsoft.Extensions.Options;

namespace Campaigns.DataRights;

/// <summary>
/// Erases one fan, store by store. Every step is idempotent (deletes of what is there, rewrites that leave the same
/// result), so a retried or repeated job is harmless; the job row records the steps a run finished, so a message
/// delivered again after a crash resumes. Errors escape: the queue retries, then parks the message in its poison queue,
/// and the job never reports "done" before every step has finished.
///
/// Erasure reads the other capabilities' tables by their documented keys rather than through each capability's API:
/// it must reach rows no API exposes (refusals, report rows, print manifests), and one place lists them all
/// (docs/data-rights.md, which the scan test keeps honest).
/// </summary>
public sealed class FanErasure(StorageClients storage, DataRightsStore store, CampaignStore campaigns, BallotStore ballots,
    MediaStorage media, LabelService labels, JudgingStore judging, DrawStore draws, SubmissionStore submissions, IOptions<DataRightsOptions> options,
    TimeProvider time, ILogger<FanErasure> logger)
{
    /// <summary>In order: moderation reads the fan's entries before the submissions step deletes them.</summary>
    public static readonly string[] Steps = ["votes", "moderation", "episodes", "judging", "winners", "submissions", "fans"];

    public static Task HandleAsync(Hosting.FunctionInvocation inv)
        => inv.Service<FanErasure>().RunAsync(inv.QueueMessage<ErasureMessage>(JsonDefaults.Options), inv.Cancellation);

    public async Task RunAsync(ErasureMessage m, CancellationToken ct)
    {
        var found = await store.GetJobAsync(m.JobId, ct)
            ?? throw new InvalidOperationException($"Erasure job {m.JobId} has no status row; it is written before its message.");
        var (job, etag) = found;
        // A message of an earlier run, or a repeated delivery of a finished one: nothing left to do.
        if (job.Run != m.Run || job.Status == ErasureStatuses.Done) return;
        if (job.Status != ErasureStatuses.Running) (job, etag) = await SaveAsync(job with { Status = ErasureStatuses.Running }, etag, ct);
        foreach (var step in Steps.Where(s => !job.Done.Contains(s)))
        {
            await RunStepAsync(step, m.FanId, m.Scope, ct);
            (job, etag) = await SaveAsync(job with { Done = [.. job.Done, step] }, etag, ct);
        }
        await SaveAsync(job with { Status = ErasureStatuses.Done, CompletedAt = time.GetUtcNow() }, etag, ct);
        logger.LogInformation("Erasure job {JobId} run {Run} finished", job.JobId, job.Run);
    }

    private async Task<(ErasureJob, ETag)> SaveAsync(ErasureJob job, ETag etag, CancellationToken ct)
        => (job, await store.SaveJobAsync(job, etag, ct)
            ?? throw new InvalidOperationException($"Erasure job {job.JobId} changed while it ran; the message is retried."));

    public Task RunStepAsync(string step, string fanId, string scope, CancellationToken ct) => step switch
    {
        "votes" => VotesAsync(fanId, scope, ct),
        "moderation" => ModerationAsync(fanId, scope, ct),
        "episodes" => EpisodesAsync(fanId, scope, ct),
        "judging" => JudgingAsync(fanId, scope, ct),
        "winners" => WinnersAsync(fanId, scope, ct),
        "submissions" => SubmissionsAsync(fanId, scope, ct),
        "fans" => FansAsync(fanId, scope, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "No such erasure step."),
    };

    /// <summary>The campaigns of the scope, a page at a time.</summary>
    public async IAsyncEnumerable<Campaign> CampaignsAsync(string scope, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var workspace = ErasureScopes.WorkspaceOf(scope);
        string? continuation = null;
        do
        {
            var (items, next) = await campaigns.ListAsync(null, workspace is null ? null : [workspace], 200, continuation, ct);
            foreach (var c in items) yield return c;
            continuation = next;
        } while (continuation is not null);
    }

    /// <summary>
    /// Per-fan vote rows and refusal rows (with their IP keys) go; the counter rows stay, so tallies, revealed or not,
    /// keep their numbers. A row under a fraud decision (invalidated) is kept for its period, then deleted.
    /// </summary>
    private async Task VotesAsync(string fanId, string scope, CancellationToken ct)
    {
        var table = storage.Table(VoteCounter.TableName);
        await foreach (var c in CampaignsAsync(scope, ct))
        {
            if (await ballots.GetAsync(c.Id, ct) is not { } b) continue;
            foreach (var round in b.Ballot.Rounds)
            {
                var pk = VoteCounter.PartitionKey(c.Id, round.Id, VoteRules.Shard(fanId, round.Shards));
                var rk = VoteCounter.FanRow(fanId);
                var row = await table.GetEntityIfExistsAsync<TableEntity>(pk, rk, ["Invalidated"], ct);
                if (row.HasValue && row.Value is { } e)
                {
                    if (e.GetBoolean("Invalidated") == true)
                        await KeepAsync(KeptRecord.FraudDecision, VoteCounter.TableName, pk, rk, KeptRecord.DeleteRow, options.Value.FraudKeepDays, c.Id,
                            $"votes of round {round.Id} invalidated for fraud", null, ct);
                    else await DeleteRowAsync(table, pk, rk, ct);
                }
                var refusals = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"x|"} and RowKey lt {"x}"} and Fan eq {fanId}");
                await DeleteAllAsync(table, refusals, ct);
            }
        }
    }

    /// <summary>Review items of the fan's entries (they carry a preview of the text), reports and blocks by or about the fan, and their audit rows.</summary>
    private async Task ModerationAsync(string fanId, string scope, CancellationToken ct)
    {
        var table = storage.Table(ModerationStore.TableName);
        var escaped = TableKeys.Escape(fanId);
        await foreach (var c in CampaignsAsync(scope, ct))
        {
            var pk = "q|" + c.Id;
            await DeleteRowAsync(table, pk, "b|" + escaped, ct);
            var audit = $"a|{ModerationStore.FanSubject(fanId)}|";
            await DeleteAllAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {audit} and RowKey lt {audit[..^1] + "}"}"), ct);
            // Report rows are r|{entry}|{fan}: entry ids hold no '|', so the fan is what follows the second one.
            var reports = new List<string>();
            await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"r|"} and RowKey lt {"r}"}"),
                               500, ["RowKey"], ct))
                if (e.RowKey.IndexOf('|', 2) is var i and > 0 && e.RowKey[(i + 1)..] == escaped) reports.Add(e.RowKey);
            foreach (var rk in reports) await DeleteRowAsync(table, pk, rk, ct);
            await foreach (var entry in OwnEntriesAsync(fanId, c.Id, ct)) await DeleteRowAsync(table, pk, "i|" + entry.EntryId, ct);
        }
    }

    /// <summary>Reaction rows (the counters they moved stay).</summary>
    private async Task EpisodesAsync(string fanId, string scope, CancellationToken ct)
    {
        var table = storage.Table(Episodes.EngagementStore.TableName);
        var rk = "fan|" + TableKeys.Escape(fanId);
        await foreach (var c in CampaignsAsync(scope, ct))
            await DeleteAllAsync(table, TableClient.CreateQueryFilter($"PartitionKey ge {c.Id + "|"} and PartitionKey lt {c.Id + "}"} and RowKey eq {rk}"), ct);
    }

    /// <summary>
    /// Round entries name their owner: the owner goes, scores and ranks stay. A closed round's results snapshot is
    /// rewritten without the owner under its new hash (the numbers are the same), then the old one is deleted.
    /// </summary>
    private async Task JudgingAsync(string fanId, string scope, CancellationToken ct)
    {
        await foreach (var c in CampaignsAsync(scope, ct))
            foreach (var round in await judging.RoundsAsync(c.Id, ct))
            {
                var owned = (await judging.EntriesAsync(c.Id, round.Id, ct)).Where(e => e.OwnerFanId == fanId).ToList();
                if (owned.Count > 0) await judging.SaveRoundDataAsync(c.Id, round.Id, owned.Select(e => e with { OwnerFanId = "" }).ToList(), null, ct);
                if (round.ResultsSha256 is not { } sha || await judging.GetSnapshotAsync(c.Id, round.Id, sha, ct) is not { } bytes) continue;
                var node = JsonNode.Parse(bytes)!;
                if (!Scrub(node, fanId)) continue;
                var scrubbed = Encoding.UTF8.GetBytes(node.ToJsonString(JsonDefaults.Options));
                var newSha = JudgingRules.Sha256Hex(scrubbed);
                await judging.SaveSnapshotAsync(c.Id, round.Id, newSha, scrubbed, ct);
                if (await judging.GetRoundForUpdateAsync(c.Id, round.Id, ct) is not { } current || current.Round.ResultsSha256 != sha) continue;
                if (await judging.TryReplaceRoundAsync(current.Round with { ResultsSha256 = newSha }, current.ETag, ct) is null)
                    throw new InvalidOperationException($"Judging round {c.Id}/{round.Id} changed during erasure; retried.");
                await judging.DeleteSnapshotAsync(c.Id, round.Id, sha, ct);
            }
    }

    /// <summary>Replaces every string equal to <paramref name="value"/> with null; true when something changed.</summary>
    private static bool Scrub(JsonNode node, string value)
    {
        var changed = false;
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o.ToList())
                {
                    if (child is JsonValue v && v.TryGetValue<string>(out var s) && s == value) { o[key] = null; changed = true; }
                    else if (child is not null) changed |= Scrub(child, value);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.TryGetValue<string>(out var s) && s == value) { a[i] = null; changed = true; }
                    else if (a[i] is { } child) changed |= Scrub(child, value);
                }
                break;
        }
        return changed;
    }

    /// <summary>
    /// Draws keep their record and eligible list (pseudonymous ids stay verifiable); the fan id beside the fan's pid
    /// goes from the alternates and pending notices. A winner's slot keeps it for prize fulfilment, for its period.
    /// </summary>
    private async Task WinnersAsync(string fanId, string scope, CancellationToken ct)
    {
        await foreach (var c in CampaignsAsync(scope, ct))
            foreach (var listed in await draws.ListAsync(c.Id, ct))
            {
                if (await draws.GetAsync(c.Id, listed.DrawId, ct) is not { } found) continue;
                var s = found.State;
                foreach (var slot in s.Slots?.Where(x => x.FanId == fanId) ?? [])
                    await KeepAsync(KeptRecord.PrizeFulfilment, DrawStore.TableName, TableKeys.Escape(c.Id), "draw|" + s.DrawId, KeptRecord.ScrubWinnerSlot,
                        options.Value.PrizeKeepDays, c.Id, $"winner of draw {s.DrawId}, position {slot.Position}, status {slot.Status}", slot.Position, ct, slot.Pid);
                var winnerSlots = s.Slots?.Where(x => x.FanId == fanId).Select(x => x.Position).ToHashSet() ?? [];
                var next = s with
                {
                    AlternatePool = s.AlternatePool?.Select(a => a.FanId == fanId ? a with { FanId = "" } : a).ToList(),
                    Outbox = s.Outbox?.Where(n => n.FanId != fanId || winnerSlots.Contains(n.Position)).ToList(),
                };
                var changed = s.AlternatePool?.Any(a => a.FanId == fanId) == true
                              || s.Outbox?.Any(n => n.FanId == fanId && !winnerSlots.Contains(n.Position)) == true;
                if (changed) await draws.SaveAsync(next, found.ETag, ct);
            }
    }

    /// <summary>Every entry of the fan in scope, with its blobs, copies, previews and print files.</summary>
    private async Task SubmissionsAsync(string fanId, string scope, CancellationToken ct)
    {
        HashSet<string>? inScope = null;
        if (ErasureScopes.WorkspaceOf(scope) is not null)
        {
            inScope = [];
            await foreach (var c in CampaignsAsync(scope, ct)) inScope.Add(c.Id);
        }
        var entries = new List<Entry>();
        await foreach (var e in OwnEntriesAsync(fanId, null, ct)) if (inScope is null || inScope.Contains(e.CampaignId)) entries.Add(e);
        foreach (var e in entries) await EraseEntryAsync(e, ct);
    }

    /// <summary>The entry's media (public copies, derivatives, original, upload), label files, and its rows. Idempotent.</summary>
    public async Task EraseEntryAsync(Entry e, CancellationToken ct)
    {
        await RemoveMediaAsync(e, ct);
        var table = storage.Table(SubmissionStore.TableName);
        await DeleteRowAsync(table, SubmissionStore.GalleryPartition(e.CampaignId), SubmissionStore.GalleryRow(e), ct);
        await DeleteRowAsync(table, SubmissionStore.LabelQueuePartition(e.CampaignId), e.EntryId, ct);
        if (e.Upload is not null) await DeleteRowAsync(table, SubmissionStore.SlotPartition(e.EntryId), SubmissionStore.SlotRow(e), ct);
        await DeleteRowAsync(table, SubmissionStore.EntryPartition(e.CampaignId), e.EntryId, ct);
        // The fan's copy last: it is how a retried job finds the entry again.
        await DeleteRowAsync(table, SubmissionStore.FanPartition(e.OwnerFanId), e.CampaignId + "|" + e.EntryId, ct);
    }

    /// <summary>
    /// The owner's withdrawal: the blobs go first (from the entry as it was: its text names its previews and print
    /// line), then the entry becomes withdrawn without texts or media, which also removes its gallery and print-queue
    /// rows, then its review item (with its preview) leaves the moderation queue. Repeating it repairs a half-done one.
    /// </summary>
    public async Task<Entry> WithdrawAsync(Entry entry, DateTimeOffset now, CancellationToken ct)
    {
        await RemoveMediaAsync(entry, ct);
        var updated = await submissions.UpdateAsync(entry.CampaignId, entry.EntryId, e => SubmissionRules.Withdraw(e, now), ct) ?? entry;
        // Text the print shop already has is not ours to recall; the one in our manifest is removed above.
        await DeleteRowAsync(storage.Table(ModerationStore.TableName), "q|" + entry.CampaignId, "i|" + entry.EntryId, ct);
        return updated;
    }

    /// <summary>Every blob made from the entry: public copies, derivatives, original, upload, label previews and print files.</summary>
    public async Task RemoveMediaAsync(Entry e, CancellationToken ct)
    {
        var prefix = SubmissionRules.PublicPrefix(e);
        await media.SyncPublicAsync(e with { Media = null }, ct);
        await DeletePrefixAsync(MediaStorage.DerivativesContainer, prefix, ct);
        await DeletePrefixAsync(MediaStorage.OriginalsContainer, "image/" + prefix, ct);
        await DeletePrefixAsync(MediaStorage.OriginalsContainer, "video/" + prefix, ct);
        await media.DeleteUploadAsync(SubmissionRules.UploadBlobName(e.CampaignId, e.EntryId), ct);
        await DeletePrefixAsync(MediaStorage.UploadsContainer, prefix, ct);
        if (e.Kind != Kinds.Label || string.IsNullOrEmpty(e.Text)) return;
        // Previews are named by a hash of (template version, text): the fan's text under every version the template had.
        if (await labels.TemplateAsync(e.CampaignId, ct) is { } template)
            for (var v = 0; v <= template.Version; v++)
            {
                var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{v}\n{e.Text}")));
                await media.Container(MediaStorage.PreviewsContainer).DeleteBlobIfExistsAsync($"{e.CampaignId}/{key}.png", DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
            }
        if (e.Order?.BatchId is { } batch)
        {
            var print = media.Container(MediaStorage.PrintContainer);
            await print.DeleteBlobIfExistsAsync($"{e.CampaignId}/{batch}/{e.EntryId}.png", DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
            await RemoveManifestLineAsync($"{e.CampaignId}/{batch}/manifest.csv", e.EntryId, ct);
        }
    }

    /// <summary>Rewrites a print manifest without the entry's line (fan id and label text); the other lines stay as printed.</summary>
    private async Task RemoveManifestLineAsync(string blobName, string entryId, CancellationToken ct)
    {
        if (await media.GetAsync(MediaStorage.PrintContainer, blobName, ct) is not { } bytes) return;
        var text = Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF');
        var cell = LabelService.Csv(entryId) + ",";
        var lines = text.Split("\r\n");
        var kept = lines.Where(l => !l.StartsWith(cell, StringComparison.Ordinal)).ToArray();
        if (kept.Length == lines.Length) return;
        await media.PutAsync(MediaStorage.PrintContainer, blobName,
            Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(string.Join("\r\n", kept))).ToArray(), "text/csv; charset=utf-8", ct);
    }

    /// <summary>The profile and every consent (all), or the consents of the workspace's campaigns (staff request).</summary>
    private async Task FansAsync(string fanId, string scope, CancellationToken ct)
    {
        var table = storage.Table(Fans.FanStore.TableName);
        var pk = TableKeys.Escape(fanId);
        if (ErasureScopes.WorkspaceOf(scope) is null)
        {
            await DeleteAllAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), ct);
            return;
        }
        await foreach (var c in CampaignsAsync(scope, ct)) await DeleteRowAsync(table, pk, "consent|" + c.Id, ct);
    }

    private async IAsyncEnumerable<Entry> OwnEntriesAsync(string fanId, string? campaignId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var table = storage.Table(SubmissionStore.TableName);
        var pk = SubmissionStore.FanPartition(fanId);
        var filter = campaignId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {pk}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {campaignId + "|"} and RowKey lt {campaignId + "}"}");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, 200, ["Doc"], ct))
            yield return JsonSerializer.Deserialize<Entry>(e.GetString("Doc"), JsonDefaults.Options)!;
    }

    private Task KeepAsync(string reason, string table, string pk, string rk, string action, int days, string campaignId, string detail, int? position,
        CancellationToken ct, string? pid = null)
    {
        var id = reason + "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{table}\n{pk}\n{rk}\n{position}")))[..32];
        var now = time.GetUtcNow();
        return store.KeepAsync(new KeptRecord(id, reason, table, pk, rk, action, now, now.AddDays(days), campaignId, detail, position, pid), ct);
    }

    private async Task DeletePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var c = media.Container(container);
        await foreach (var blob in c.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, ct))
            await c.DeleteBlobIfExistsAsync(blob.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
    }

    private static async Task DeleteAllAsync(TableClient table, string filter, CancellationToken ct)
    {
        var keys = new List<(string, string)>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter, 500, ["PartitionKey", "RowKey"], ct)) keys.Add((e.PartitionKey, e.RowKey));
        foreach (var (pk, rk) in keys) await DeleteRowAsync(table, pk, rk, ct);
    }

    public static async Task DeleteRowAsync(TableClient table, string pk, string rk, CancellationToken ct)
    {
        try { await table.DeleteEntityAsync(pk, rk, ETag.All, ct); }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }
}
