using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Workspaces;

/// <summary>
/// Workspaces in one partition (few of them); each workspace's members and its audit trail share one partition of
/// <c>workspacemembers</c> (<c>m|subject</c> and <c>a|newest-first</c> rows), so a member change and its audit entry
/// commit in one transaction: no change without its record, no record without its change.
/// </summary>
public sealed class WorkspaceStore(StorageClients storage)
{
    public const string WorkspacesTable = "workspaces", MembersTable = "workspacemembers";
    private const string Partition = "workspace", MemberPrefix = "m|", AuditPrefix = "a|";

    private TableClient Workspaces => storage.Table(WorkspacesTable);
    private TableClient Members => storage.Table(MembersTable);

    public async Task<Workspace?> GetAsync(string id, CancellationToken ct)
    {
        if (!WorkspaceRules.IdPattern().IsMatch(id)) return null;
        var r = await Workspaces.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
        return r.HasValue && r.Value is not null ? Read<Workspace>(r.Value) : null;
    }

    /// <summary>Insert-if-absent: false when the id is taken.</summary>
    public async Task<bool> CreateAsync(Workspace workspace, Membership? owner, WorkspaceAuditEntry audit, CancellationToken ct)
    {
        try { await Workspaces.AddEntityAsync(Doc(Partition, workspace.Id, workspace), ct); }
        catch (RequestFailedException e) when (e.Status == 409) { return false; }
        List<TableTransactionAction> actions = [new(TableTransactionActionType.Add, AuditEntity(audit))];
        if (owner is not null) actions.Add(new(TableTransactionActionType.UpsertReplace, MemberEntity(owner)));
        await Members.SubmitTransactionAsync(actions, ct);
        return true;
    }

    public Task<(List<Workspace> Items, string? Next)> ListAllAsync(int pageSize, string? continuation, CancellationToken ct)
        => PageAsync<Workspace>(Workspaces, TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), pageSize, continuation, ct);

    public async Task<Membership?> GetMemberAsync(string workspaceId, string subject, CancellationToken ct)
    {
        var r = await Members.GetEntityIfExistsAsync<TableEntity>(workspaceId, MemberKey(subject), cancellationToken: ct);
        return r.HasValue && r.Value is not null ? Read<Membership>(r.Value) : null;
    }

    /// <summary>The subject's memberships across workspaces (a query on the row key: workspaces are few).</summary>
    public Task<(List<Membership> Items, string? Next)> ListForSubjectAsync(string subject, int pageSize, string? continuation, CancellationToken ct)
        => PageAsync<Membership>(Members, TableClient.CreateQueryFilter($"RowKey eq {MemberKey(subject)}"), pageSize, continuation, ct);

    /// <summary>Every membership of the subject; for filtering lists by the caller's workspaces.</summary>
    public async Task<List<Membership>> AllForSubjectAsync(string subject, CancellationToken ct)
    {
        var all = new List<Membership>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {MemberKey(subject)}");
        await foreach (var e in Members.QueryAsync<TableEntity>(filter, cancellationToken: ct)) all.Add(Read<Membership>(e));
        return all;
    }

    public Task<(List<Membership> Items, string? Next)> ListMembersAsync(string workspaceId, int pageSize, string? continuation, CancellationToken ct)
        => PageAsync<Membership>(Members, TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and RowKey ge {MemberPrefix} and RowKey lt {"m}"}"),
            pageSize, continuation, ct);

    public async Task<int> CountOwnersAsync(string workspaceId, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and RowKey ge {MemberPrefix} and RowKey lt {"m}"} and Role eq {nameof(WorkspaceRole.Owner)}");
        var n = 0;
        await foreach (var _ in Members.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: ct)) n++;
        return n;
    }

    /// <summary>Writes the membership and its audit entry together.</summary>
    public Task PutMemberAsync(Membership member, WorkspaceAuditEntry audit, CancellationToken ct)
        => Members.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpsertReplace, MemberEntity(member)),
            new TableTransactionAction(TableTransactionActionType.Add, AuditEntity(audit)),
        ], ct);

    public Task RemoveMemberAsync(Membership member, WorkspaceAuditEntry audit, CancellationToken ct)
        => Members.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(member.WorkspaceId, MemberKey(member.Subject)), ETag.All),
            new TableTransactionAction(TableTransactionActionType.Add, AuditEntity(audit)),
        ], ct);

    public Task AuditAsync(WorkspaceAuditEntry audit, CancellationToken ct) => Members.AddEntityAsync(AuditEntity(audit), ct);

    public Task<(List<WorkspaceAuditEntry> Items, string? Next)> ListAuditAsync(string workspaceId, int pageSize, string? continuation, CancellationToken ct)
        => PageAsync<WorkspaceAuditEntry>(Members, TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and RowKey ge {AuditPrefix} and RowKey lt {"a}"}"),
            pageSize, continuation, ct);

    private static async Task<(List<T> Items, string? Next)> PageAsync<T>(TableClient table, string filter, int pageSize, string? continuation,
        CancellationToken ct)
    {
        await foreach (var page in table.QueryAsync<TableEntity>(filter, pageSize, cancellationToken: ct).AsPages(continuation, pageSize))
            return (page.Values.Select(Read<T>).ToList(), page.ContinuationToken);
        return ([], null);
    }

    private static string MemberKey(string subject) => MemberPrefix + TableKeys.Escape(subject);

    private static TableEntity MemberEntity(Membership m)
    {
        var e = Doc(m.WorkspaceId, MemberKey(m.Subject), m);
        e["Role"] = m.Role.ToString();
        return e;
    }

    private static TableEntity AuditEntity(WorkspaceAuditEntry a)
        => Doc(a.WorkspaceId, AuditPrefix + TableKeys.NewestFirst(a.At) + "-" + Guid.NewGuid().ToString("N")[..8], a);

    private static TableEntity Doc<T>(string pk, string rk, T value) => new(pk, rk) { ["Doc"] = JsonSerializer.Serialize(value, JsonDefaults.Options) };

    private static T Read<T>(TableEntity e) => JsonSerializer.Deserialize<T>(e.GetString("Doc"), JsonDefaults.Options)
        ?? throw new InvalidDataException($"{typeof(T).Name} {e.PartitionKey}/{e.RowKey} has an empty document.");
}
