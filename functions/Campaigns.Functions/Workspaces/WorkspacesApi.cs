using System.Security.Claims;
using Campaigns.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Campaigns.Workspaces;

public static class WorkspacesApi
{
    public sealed record WorkspaceView(string Id, string Name, DateTimeOffset CreatedAt, string? MyRole);
    public sealed record MemberView(string Subject, WorkspaceRole Role, string? Email, DateTimeOffset AddedAt, string AddedBy, DateTimeOffset UpdatedAt);

    public static void AddWorkspaces(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<WorkspacesOptions>().Bind(builder.Configuration.GetSection("Workspaces")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<WorkspacesOptions>, WorkspacesOptionsValidator>();
        s.AddTable(WorkspaceStore.WorkspacesTable);
        s.AddTable(WorkspaceStore.MembersTable);
        s.AddSingleton<WorkspaceStore>();
        s.AddSingleton<WorkspaceAccess>();
        s.AddSingleton<IStartupTask, WorkspaceMigration>();
    }

    public static void MapWorkspaces(this WebApplication app)
    {
        var g = app.MapGroup("/api/workspaces").WithTags("Workspaces");
        g.MapPost("/", Create).Requires(Powers.WorkspaceCreate).WithSummary("Create a workspace with its first owner (platform operators).");
        g.MapGet("/", List).Requires(Powers.WorkspaceRead).WithSummary("The caller's workspaces with their role (operators: all).");
        g.MapGet("/{workspaceId}", Get).Requires(Powers.WorkspaceRead).WithSummary("A workspace and the caller's role in it.");
        g.MapGet("/{workspaceId}/members", Members).Requires(Powers.MembersRead).WithSummary("The workspace's members, paged.");
        g.MapPut("/{workspaceId}/members/{subject}", PutMember).Requires(Powers.MembersManage)
            .WithSummary("Add a member by token subject (optional e-mail) or change their role; audited.");
        g.MapDelete("/{workspaceId}/members/{subject}", RemoveMember).Requires(Powers.MembersManage).WithSummary("Remove a member; audited.");
        g.MapGet("/{workspaceId}/audit", Audit).Requires(Powers.WorkspaceAudit).WithSummary("The workspace's audit trail, newest first, paged.");
    }

    private static int Size(int? pageSize) => Paging.Size(pageSize);

    public static async Task<IResult> Create(WorkspaceInput input, StaffGrant grant, WorkspaceStore store, TimeProvider time, CancellationToken ct)
    {
        var errors = WorkspaceRules.Validate(input);
        if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
        var now = time.GetUtcNow();
        var workspace = new Workspace(input.Id, input.Name.Trim(), now, grant.Subject);
        var owner = new Membership(input.Id, input.Owner.Subject, WorkspaceRole.Owner, input.Owner.Email, now, grant.Subject, now);
        var audit = new WorkspaceAuditEntry(input.Id, now, grant.Subject, "workspace.created", input.Owner.Subject, "first owner");
        if (!await store.CreateAsync(workspace, owner, audit, ct))
            return ApiProblem.Conflict("workspace_exists", $"A workspace with id '{input.Id}' already exists.").ToResult();
        return TypedResults.Created($"/api/workspaces/{workspace.Id}", new WorkspaceView(workspace.Id, workspace.Name, workspace.CreatedAt, null));
    }

    public static async Task<Ok<ListPage<WorkspaceView>>> List(StaffGrant grant, WorkspaceStore store, int? pageSize, string? continuation, CancellationToken ct)
    {
        if (grant.IsOperator)
        {
            var (all, nextAll) = await store.ListAllAsync(Size(pageSize), continuation, ct);
            return TypedResults.Ok(new ListPage<WorkspaceView>(all.Select(w => new WorkspaceView(w.Id, w.Name, w.CreatedAt, null)).ToList(), nextAll));
        }
        var (mine, next) = await store.ListForSubjectAsync(grant.Subject, Size(pageSize), continuation, ct);
        var views = new List<WorkspaceView>();
        foreach (var m in mine)
            if (await store.GetAsync(m.WorkspaceId, ct) is { } w) views.Add(new WorkspaceView(w.Id, w.Name, w.CreatedAt, Name(m.Role)));
        return TypedResults.Ok(new ListPage<WorkspaceView>(views, next));
    }

    public static async Task<IResult> Get(string workspaceId, StaffGrant grant, WorkspaceStore store, CancellationToken ct)
        => await store.GetAsync(workspaceId, ct) is { } w
            ? TypedResults.Ok(new WorkspaceView(w.Id, w.Name, w.CreatedAt, grant.Role is { } r ? Name(r) : null))
            : ApiProblem.NotFound("workspace_not_found", "The workspace").ToResult();

    public static async Task<Ok<ListPage<MemberView>>> Members(string workspaceId, WorkspaceStore store, int? pageSize, string? continuation, CancellationToken ct)
    {
        var (items, next) = await store.ListMembersAsync(workspaceId, Size(pageSize), continuation, ct);
        return TypedResults.Ok(new ListPage<MemberView>(items.Select(View).ToList(), next));
    }

    public static async Task<IResult> PutMember(string workspaceId, string subject, MemberInput input, StaffGrant grant, WorkspaceStore store,
        TimeProvider time, CancellationToken ct)
    {
        var errors = WorkspaceRules.Validate(subject, input);
        if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
        var now = time.GetUtcNow();
        var current = await store.GetMemberAsync(workspaceId, subject, ct);
        var owners = current?.Role == WorkspaceRole.Owner ? await store.CountOwnersAsync(workspaceId, ct) : 0;
        var (member, code, detail) = WorkspaceRules.Put(current, owners, workspaceId, subject, input, grant.Subject, now);
        if (member is null) return ApiProblem.Conflict(code!, detail!).ToResult();
        var action = current is null ? "member.added" : "member.changed";
        var change = current is null ? Name(member.Role) : $"{Name(current.Role)} → {Name(member.Role)}";
        await store.PutMemberAsync(member, new WorkspaceAuditEntry(workspaceId, now, grant.Subject, action, subject, change), ct);
        return current is null
            ? TypedResults.Created($"/api/workspaces/{workspaceId}/members/{Uri.EscapeDataString(subject)}", View(member))
            : TypedResults.Ok(View(member));
    }

    public static async Task<IResult> RemoveMember(string workspaceId, string subject, StaffGrant grant, WorkspaceStore store, TimeProvider time, CancellationToken ct)
    {
        if (await store.GetMemberAsync(workspaceId, subject, ct) is not { } current)
            return ApiProblem.NotFound("member_not_found", "The member").ToResult();
        var owners = current.Role == WorkspaceRole.Owner ? await store.CountOwnersAsync(workspaceId, ct) : 0;
        var (ok, code, detail) = WorkspaceRules.Remove(current, owners);
        if (!ok) return ApiProblem.Conflict(code!, detail!).ToResult();
        var now = time.GetUtcNow();
        await store.RemoveMemberAsync(current, new WorkspaceAuditEntry(workspaceId, now, grant.Subject, "member.removed", subject, Name(current.Role)), ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<ListPage<WorkspaceAuditEntry>>> Audit(string workspaceId, WorkspaceStore store, int? pageSize, string? continuation, CancellationToken ct)
    {
        var (items, next) = await store.ListAuditAsync(workspaceId, Size(pageSize), continuation, ct);
        return TypedResults.Ok(new ListPage<WorkspaceAuditEntry>(items, next));
    }

    private static MemberView View(Membership m) => new(m.Subject, m.Role, m.Email, m.AddedAt, m.AddedBy, m.UpdatedAt);
    private static string Name(WorkspaceRole role) => role.ToString().ToLowerInvariant();
}
