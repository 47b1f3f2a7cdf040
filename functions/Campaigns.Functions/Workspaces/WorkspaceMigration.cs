using Campaigns.Campaigns;
using Microsoft.Extensions.Options;

namespace Campaigns.Workspaces;

/// <summary>
/// Campaigns created before workspaces existed move into the default workspace at start (created if absent, with
/// <c>Workspaces__DefaultOwner</c> as its first owner when set; otherwise an operator adds one). Until a campaign is
/// rewritten the access check already treats it as the default workspace's, so there is no window without an owner.
/// </summary>
public sealed class WorkspaceMigration(CampaignStore campaigns, WorkspaceStore workspaces, IOptions<WorkspacesOptions> options,
    TimeProvider time, ILogger<WorkspaceMigration> logger) : IStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        string? continuation = null;
        var moved = 0;
        do
        {
            var (page, next) = await campaigns.ListAsync(null, null, 200, continuation, ct);
            continuation = next;
            foreach (var c in page.Where(c => c.WorkspaceId is null))
            {
                if (moved == 0) await EnsureDefaultAsync(o, ct);
                if (await campaigns.GetAsync(c.Id, ct) is not { Campaign.WorkspaceId: null } found) continue;
                try
                {
                    await campaigns.ReplaceAsync(found.Campaign with { WorkspaceId = o.DefaultWorkspace }, found.ETag, ct);
                    moved++;
                }
                catch (Platform.ProblemException) { /* changed meanwhile: another instance migrated it */ }
            }
        } while (continuation is not null);
        if (moved > 0) logger.LogInformation("Moved {Count} campaigns into workspace {Workspace}", moved, o.DefaultWorkspace);
    }

    private async Task EnsureDefaultAsync(WorkspacesOptions o, CancellationToken ct)
    {
        if (await workspaces.GetAsync(o.DefaultWorkspace, ct) is not null) return;
        var now = time.GetUtcNow();
        var owner = string.IsNullOrWhiteSpace(o.DefaultOwner)
            ? null
            : new Membership(o.DefaultWorkspace, o.DefaultOwner, WorkspaceRole.Owner, null, now, "migration", now);
        await workspaces.CreateAsync(new Workspace(o.DefaultWorkspace, "Default workspace", now, "migration"), owner,
            new WorkspaceAuditEntry(o.DefaultWorkspace, now, "migration", "workspace.created", owner?.Subject, "campaigns created before workspaces"), ct);
    }
}
