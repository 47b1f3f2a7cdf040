using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Moderation;

/// <summary>
/// One partition per campaign ("q|{campaignId}"): review items (i|entry), their audit rows (a|subject|seq),
/// report dedupe rows (r|entry|fan), blocks (b|fan) and the settings row. Moderation writes are human-paced,
/// so one partition per campaign is far from the 2,000 ops/s limit, and it lets a decision and its audit row
/// commit in one transaction.
/// </summary>
public sealed class ModerationStore(StorageClients storage)
{
    public const string TableName = "moderation";
    private TableClient Table => storage.Table(TableName);

    private static string Pk(string campaignId) => "q|" + campaignId;
    private static string ItemKey(string entryId) => "i|" + entryId;
    public static string FanSubject(string fanId) => "fan:" + TableKeys.Escape(fanId);
    private static string AuditKey(string subject, int seq) => $"a|{subject}|{seq:D6}";

    public async Task<bool> InsertAsync(ReviewItem item, AuditRecord? audit, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, ItemEntity(item)) };
        if (audit is not null) actions.Add(new(TableTransactionActionType.Add, AuditEntity(audit)));
        try
        {
            await Table.SubmitTransactionAsync(actions, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task<(ReviewItem Item, ETag ETag)?> GetAsync(string campaignId, string entryId, CancellationToken ct)
    {
        // Entry ids come from request bodies too; one that is no entry id ('/', '#', '?' …) is no row key either.
        if (!ModerationRules.EntryIdPattern().IsMatch(entryId)) return null;
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(Pk(campaignId), ItemKey(entryId), cancellationToken: ct);
        return r.HasValue && r.Value is { } e ? (Read<ReviewItem>(e), e.ETag) : null;
    }

    /// <summary>Open items (pending or escalated) with their ETags, for listing and claiming.</summary>
    public Task<List<(ReviewItem Item, ETag ETag)>> OpenAsync(string campaignId, CancellationToken ct)
        => Query(TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)} and RowKey ge 'i|' and RowKey lt 'i}}' and Open eq true"), ct);

    public Task<List<(ReviewItem Item, ETag ETag)>> AllAsync(string campaignId, CancellationToken ct)
        => Query(TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)} and RowKey ge 'i|' and RowKey lt 'i}}'"), ct);

    private async Task<List<(ReviewItem, ETag)>> Query(string filter, CancellationToken ct)
    {
        var list = new List<(ReviewItem, ETag)>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, 1000, ["Doc"], ct)) list.Add((Read<ReviewItem>(e), e.ETag));
        return list;
    }

    /// <summary>Replaces the item if it did not change since read; false when someone else changed it first.</summary>
    public async Task<bool> TryReplaceAsync(ReviewItem item, ETag ifMatch, CancellationToken ct)
    {
        try
        {
            await Table.UpdateEntityAsync(ItemEntity(item), ifMatch, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>The item change and its audit row commit together, or neither does.</summary>
    public async Task<bool> CommitAsync(ReviewItem item, ETag ifMatch, AuditRecord audit, CancellationToken ct)
    {
        try
        {
            await Table.SubmitTransactionAsync([
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, ItemEntity(item), ifMatch),
                new TableTransactionAction(TableTransactionActionType.Add, AuditEntity(audit)),
            ], ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 409 or 404)
        {
            return false;
        }
    }

    public async Task<List<AuditRecord>> AuditAsync(string campaignId, string? subject, CancellationToken ct)
    {
        var from = subject is null ? "a|" : $"a|{subject}|";
        var to = from[..^1] + (char)(from[^1] + 1);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)} and RowKey ge {from} and RowKey lt {to}");
        var list = new List<AuditRecord>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, 1000, ["Doc"], ct)) list.Add(Read<AuditRecord>(e));
        return list.OrderBy(a => a.At).ThenBy(a => a.Subject, StringComparer.Ordinal).ThenBy(a => a.Seq).ToList();
    }

    /// <summary>
    /// A page of the campaign's audit (or one subject's: an entry, or a fan's blocks) in key order: subject by subject,
    /// each subject's records in sequence. Sorting the whole campaign by time would mean loading all of it.
    /// </summary>
    public Task<ListPage<AuditRecord>> AuditPageAsync(string campaignId, string? subject, int? pageSize, string? continuation, CancellationToken ct)
    {
        var from = subject is null ? "a|" : $"a|{subject}|";
        var to = from[..^1] + (char)(from[^1] + 1);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)} and RowKey ge {from} and RowKey lt {to}");
        return Table.PageAsync(filter, pageSize, continuation, Read<AuditRecord>, ct, ["Doc"]);
    }

    /// <summary>One report per fan per entry: false when the fan already reported it.</summary>
    public enum ReportWrite { Counted, AlreadyReported, Stale }

    /// <summary>
    /// The fan's report row and the item's new count (and the hide audit, when the threshold is reached) in one
    /// transaction: a report is never saved without being counted, so a retry after a crash counts it once.
    /// </summary>
    public async Task<ReportWrite> AddCountedReportAsync(string fanId, ReportInput report, DateTimeOffset at, ReviewItem counted, ETag ifMatch,
        AuditRecord? audit, CancellationToken ct)
    {
        var row = new TableEntity(Pk(counted.CampaignId), $"r|{counted.EntryId}|{TableKeys.Escape(fanId)}")
        {
            ["Reason"] = report.Reason, ["Note"] = report.Note, ["At"] = at,
        };
        List<TableTransactionAction> actions =
        [
            new(TableTransactionActionType.Add, row),
            new(TableTransactionActionType.UpdateReplace, ItemEntity(counted), ifMatch),
        ];
        if (audit is not null) actions.Add(new(TableTransactionActionType.Add, AuditEntity(audit)));
        try
        {
            await Table.SubmitTransactionAsync(actions, ct);
            return ReportWrite.Counted;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Which action failed decides: the report row already there, or the item changed under us.
            var exists = await Table.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey, ["RowKey"], ct);
            return exists.HasValue ? ReportWrite.AlreadyReported : ReportWrite.Stale;
        }
    }

    public async Task<ModerationSettings?> GetSettingsAsync(string campaignId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(Pk(campaignId), "settings", ["Doc"], ct);
        return r.HasValue && r.Value is { } e ? Read<ModerationSettings>(e) : null;
    }

    public Task SaveSettingsAsync(string campaignId, ModerationSettings s, CancellationToken ct)
        => Table.UpsertEntityAsync(new TableEntity(Pk(campaignId), "settings") { ["Doc"] = Json(s) }, TableUpdateMode.Replace, ct);

    public async Task<(FanBlock Block, ETag ETag)?> GetBlockAsync(string campaignId, string fanId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(Pk(campaignId), "b|" + TableKeys.Escape(fanId), ["Doc"], ct);
        return r.HasValue && r.Value is { } e ? (Read<FanBlock>(e), e.ETag) : null;
    }

    /// <summary>Writes the block row (insert when <paramref name="ifMatch"/> is null) with its audit row.</summary>
    public async Task<bool> CommitBlockAsync(FanBlock block, ETag? ifMatch, AuditRecord audit, CancellationToken ct)
    {
        var entity = new TableEntity(Pk(block.CampaignId), "b|" + TableKeys.Escape(block.FanId)) { ["Doc"] = Json(block), ["Blocked"] = block.Blocked };
        try
        {
            await Table.SubmitTransactionAsync([
                ifMatch is { } tag
                    ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, tag)
                    : new TableTransactionAction(TableTransactionActionType.Add, entity),
                new TableTransactionAction(TableTransactionActionType.Add, AuditEntity(audit)),
            ], ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 409)
        {
            return false;
        }
    }

    public Task<ListPage<FanBlock>> BlocksPageAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)} and RowKey ge 'b|' and RowKey lt 'b}}' and Blocked eq true"),
            pageSize, continuation, Read<FanBlock>, ct, ["Doc"]);

    /// <summary>Every current block (for filtering rankings by who is blocked).</summary>
    public async Task<List<FanBlock>> BlocksAsync(string campaignId, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)} and RowKey ge 'b|' and RowKey lt 'b}}' and Blocked eq true");
        var list = new List<FanBlock>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, 1000, ["Doc"], ct)) list.Add(Read<FanBlock>(e));
        return list;
    }

    private static TableEntity ItemEntity(ReviewItem i) => new(Pk(i.CampaignId), ItemKey(i.EntryId))
    {
        ["Doc"] = Json(i), ["Open"] = i.IsOpen, ["Status"] = ModerationRules.Lower(i.Status),
    };

    private static TableEntity AuditEntity(AuditRecord a) => new(Pk(a.CampaignId), AuditKey(a.Subject, a.Seq)) { ["Doc"] = Json(a) };

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Options);
    private static T Read<T>(TableEntity e) => JsonSerializer.Deserialize<T>(e.GetString("Doc"), JsonDefaults.Options)!;
}
