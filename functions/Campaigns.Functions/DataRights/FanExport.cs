using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Campaigns.Fans;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Voting;
using Campaigns.Winners;
using Microsoft.Extensions.Options;

namespace Campaigns.DataRights;

public sealed record ExportVote(string CampaignId, string RoundId, string VoteId, DateTimeOffset At, Dictionary<string, string> Choices,
    Dictionary<string, string>? Entries, bool Counted, bool Invalidated, string? InvalidatedNote, bool Suspended, string? SuspendedReason);

public sealed record ExportRefusal(string CampaignId, string RoundId, string? VoteId, string? Reason, string? Detail, DateTimeOffset? At, string? Ip,
    Dictionary<string, string>? Choices);

public sealed record ExportLabelOrder(string CampaignId, string EntryId, string? Text, string? Status, string? BatchId, string? Carrier,
    string? TrackingNumber, DateTimeOffset? ShippedAt);

public sealed record ExportWin(int Position, string Status, DateTimeOffset SelectedAt, DateTimeOffset? ContactedAt, DateTimeOffset? ClaimedAt,
    DateTimeOffset? FulfilledAt);

/// <summary>The fan's pseudonymous id in a draw; whether that id is in its published eligible list, is an alternate, or won.</summary>
public sealed record ExportDraw(string CampaignId, string DrawId, string Pid, string DrawStatus, bool? Eligible, bool Alternate, ExportWin? Win);

public sealed record ExportReaction(string CampaignId, string EpisodeId, DateTimeOffset? At);

public sealed record ExportReport(string CampaignId, string EntryId, string? Reason, string? Note, DateTimeOffset? At);

public sealed record FanExportDocument(string Format, string FanId, string Scope, DateTimeOffset GeneratedAt, DateTimeOffset MediaLinksExpireAt,
    FanProfile? Profile, List<CampaignConsent> Consents, List<ExportVote> Votes, List<ExportRefusal> Refusals, List<OwnEntryView> Entries,
    List<ExportLabelOrder> LabelOrders, List<ExportDraw> Draws, List<ExportReaction> Reactions, List<ExportReport> Reports)
{
    public const string FormatName = "campaigns-fan-export/1";
}

/// <summary>
/// Everything stored about one fan in a scope (all campaigns, or one workspace's). Campaigns are read a page at a time
/// and each store by the fan's own keys, so memory holds one fan's data, never a campaign's.
/// </summary>
public sealed class FanExport(StorageClients storage, FanErasure erasure, FanStore fans, BallotStore ballots, VoteCounter counter,
    MediaStorage media, DrawStore draws, IOptions<WinnersOptions> winners, TimeProvider time)
{
    /// <summary>Media links in an export are read URLs valid this long: enough to download, short if the file is forwarded.</summary>
    public static readonly TimeSpan MediaLinkLifetime = TimeSpan.FromMinutes(5);

    public async Task<FanExportDocument> BuildAsync(string fanId, string scope, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var all = ErasureScopes.WorkspaceOf(scope) is null;
        var doc = new FanExportDocument(FanExportDocument.FormatName, fanId, scope, now, now.Add(MediaLinkLifetime),
            all ? await fans.GetProfileAsync(fanId, ct) : null, [], [], [], [], [], [], [], []);
        var key = winners.Value.PseudonymKeyBytes;
        var campaignIds = new HashSet<string>();
        await foreach (var c in erasure.CampaignsAsync(scope, ct))
        {
            campaignIds.Add(c.Id);
            if (await fans.GetConsentAsync(fanId, c.Id, ct) is { } consent) doc.Consents.Add(consent);
            await VotesAsync(fanId, c.Id, doc, ct);
            await DrawsAsync(fanId, c.Id, DrawAlgorithm.Pseudonym(key, c.Id, fanId), doc, ct);
            await EngagementAsync(fanId, c.Id, doc, ct);
        }
        var subs = storage.Table(SubmissionStore.TableName);
        await foreach (var row in subs.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {SubmissionStore.FanPartition(fanId)}"), 200, ["Doc"], ct))
        {
            var e = JsonSerializer.Deserialize<Entry>(row.GetString("Doc"), JsonDefaults.Options)!;
            if (!all && !campaignIds.Contains(e.CampaignId)) continue;
            doc.Entries.Add(OwnEntryView.Of(e, await MediaLinksAsync(e, now, ct)));
            if (e.Kind == Kinds.Label)
                doc.LabelOrders.Add(new ExportLabelOrder(e.CampaignId, e.EntryId, e.Text, e.OrderStatus, e.Order?.BatchId, e.Order?.Carrier,
                    e.Order?.TrackingNumber, e.Order?.ShippedAt));
        }
        return doc;
    }

    /// <summary>Read URLs of the entry's private derivatives, published or not: an export never hands out a lasting link.</summary>
    private async Task<MediaUrls?> MediaLinksAsync(Entry e, DateTimeOffset now, CancellationToken ct)
    {
        if (e.Media is not { } m) return null;
        var until = now.Add(MediaLinkLifetime);
        return new MediaUrls((await media.ReadSasAsync(MediaStorage.DerivativesContainer, m.SmallBlob, until, ct)).ToString(),
            (await media.ReadSasAsync(MediaStorage.DerivativesContainer, m.LargeBlob, until, ct)).ToString(), m.Width, m.Height);
    }

    private async Task VotesAsync(string fanId, string campaignId, FanExportDocument doc, CancellationToken ct)
    {
        if (await ballots.GetAsync(campaignId, ct) is not { } b) return;
        var table = storage.Table(VoteCounter.TableName);
        foreach (var round in b.Ballot.Rounds)
        {
            if (await counter.ReadFanVoteAsync(campaignId, round, fanId) is { } v)
                doc.Votes.Add(new ExportVote(campaignId, round.Id, v.VoteId, v.At, v.Choices, v.Entries, v.Counted, v.Invalidated, v.InvalidatedNote,
                    v.Suspended, v.SuspendedReason));
            var pk = VoteCounter.PartitionKey(campaignId, round.Id, VoteRules.Shard(fanId, round.Shards));
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"x|"} and RowKey lt {"x}"} and Fan eq {fanId}");
            await foreach (var e in table.QueryAsync<TableEntity>(filter, 200, cancellationToken: ct))
                doc.Refusals.Add(new ExportRefusal(campaignId, round.Id, e.GetString("VoteId"), e.GetString("Reason"), e.GetString("Detail"),
                    e.GetDateTimeOffset("At"), e.GetString("Ip"),
                    e.GetString("Choices") is { } c ? JsonSerializer.Deserialize<Dictionary<string, string>>(c, JsonDefaults.Options) : null));
        }
    }

    private async Task DrawsAsync(string fanId, string campaignId, string pid, FanExportDocument doc, CancellationToken ct)
    {
        foreach (var d in await draws.ListAsync(campaignId, ct))
        {
            bool? eligible = null;
            if (d.ListSha256 is { } sha && await draws.GetListAsync(campaignId, d.DrawId, sha, ct) is { } list)
                eligible = Encoding.UTF8.GetString(list).Split('\n').Any(line => line == pid || line.StartsWith(pid + " ", StringComparison.Ordinal));
            var slot = d.Slots?.FirstOrDefault(s => s.Pid == pid && s.FanId == fanId);
            var alternate = d.AlternatePool?.Any(a => a.Pid == pid) == true;
            if (eligible != true && slot is null && !alternate) continue;
            doc.Draws.Add(new ExportDraw(campaignId, d.DrawId, pid, d.Status.ToString().ToLowerInvariant(), eligible, alternate,
                slot is null ? null : new ExportWin(slot.Position, slot.Status.ToString().ToLowerInvariant(), slot.SelectedAt, slot.ContactedAt, slot.ClaimedAt, slot.FulfilledAt)));
        }
    }

    private async Task EngagementAsync(string fanId, string campaignId, FanExportDocument doc, CancellationToken ct)
    {
        var escaped = TableKeys.Escape(fanId);
        var engagement = storage.Table(Episodes.EngagementStore.TableName);
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {campaignId + "|"} and PartitionKey lt {campaignId + "}"} and RowKey eq {"fan|" + escaped}");
        await foreach (var e in engagement.QueryAsync<TableEntity>(filter, 200, cancellationToken: ct))
            doc.Reactions.Add(new ExportReaction(campaignId, e.PartitionKey[(campaignId.Length + 1)..], e.GetDateTimeOffset("At")));
        var moderation = storage.Table(Moderation.ModerationStore.TableName);
        var pk = "q|" + campaignId;
        await foreach (var e in moderation.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"r|"} and RowKey lt {"r}"}"), 500, cancellationToken: ct))
            if (e.RowKey.IndexOf('|', 2) is var i and > 0 && e.RowKey[(i + 1)..] == escaped)
                doc.Reports.Add(new ExportReport(campaignId, e.RowKey[2..i], e.GetString("Reason"), e.GetString("Note"), e.GetDateTimeOffset("At")));
    }
}
