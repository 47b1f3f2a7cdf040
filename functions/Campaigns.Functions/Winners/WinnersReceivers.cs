using System.Security.Claims;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Platform;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.Winners;

/// <summary>
/// A workspace's receiver of winner notifications (the brand's CRM) and its own signing secrets. Winner notices carry
/// the fan's id, so each brand's go to that brand's receiver only — never one receiver for every brand of a deployment.
/// </summary>
public sealed record WinnersReceiver(string WorkspaceId, string Url, WebhookSecrets Secrets, DateTimeOffset UpdatedAt, string UpdatedBy);

public sealed record WinnersReceiverInput(string? Url);

/// <summary>The receiver as saved; <see cref="Secret"/> only in the answer that set a new URL (shown once).</summary>
public sealed record WinnersReceiverView(string? Url, string? Secret, DateTimeOffset? UpdatedAt);

/// <summary>The receiver's signing secrets, for the owners who configure the CRM.</summary>
public sealed record WinnersReceiverSecrets(string Url, string Primary, string? Previous, DateTimeOffset? PreviousUntil, DateTimeOffset RotatedAt);

public sealed record WinnersRotateInput(int? OverlapHours);

/// <summary>Receivers live in the winners table, one row per workspace in a partition no campaign id can name.</summary>
public sealed class WinnersReceivers(StorageClients storage)
{
    private const string Row = "receiver";
    private TableClient Table => storage.Table(DrawStore.TableName);
    private static string Pk(string workspaceId) => "ws|" + TableKeys.Escape(workspaceId);

    public async Task<(WinnersReceiver Receiver, ETag ETag)?> GetAsync(string workspaceId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(Pk(workspaceId), Row, ["Doc"], ct);
        return r.HasValue && r.Value is { } e ? (JsonSerializer.Deserialize<WinnersReceiver>(e.GetString("Doc"), JsonDefaults.Options)!, e.ETag) : null;
    }

    /// <summary>Insert (no ETag) or replace at the ETag read; false when someone changed it first.</summary>
    public async Task<bool> SaveAsync(WinnersReceiver receiver, ETag? read, CancellationToken ct)
    {
        var entity = new TableEntity(Pk(receiver.WorkspaceId), Row) { ["Doc"] = JsonSerializer.Serialize(receiver, JsonDefaults.Options) };
        try
        {
            if (read is { } tag) await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct);
            else await Table.AddEntityAsync(entity, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 or 404) { return false; }
    }

    public async Task<bool> DeleteAsync(string workspaceId, ETag read, CancellationToken ct)
    {
        try { await Table.DeleteEntityAsync(Pk(workspaceId), Row, read, ct); return true; }
        catch (RequestFailedException e) when (e.Status is 412 or 404) { return false; }
    }
}

/// <summary>Owners set, read and rotate their workspace's winner receiver; every change is in the workspace audit.</summary>
public static class WinnersReceiversApi
{
    public static void Map(WebApplication app)
    {
        var g = app.MapGroup("/api/workspaces/{workspaceId}/winners-webhook").WithTags("Winners");
        g.MapGet("/", Get).Requires(Powers.WinnersWebhook).WithSummary("The workspace's winner-notification receiver and its signing secrets.");
        g.MapPut("/", Put).Requires(Powers.WinnersWebhook)
            .WithSummary("Set (or, with url null, remove) the receiver of the workspace's winner notifications; a new URL gets a new secret, shown once.");
        g.MapPost("/rotate", Rotate).Requires(Powers.WinnersWebhook)
            .WithSummary("New primary secret; the previous one keeps signing for overlapHours. With an Idempotency-Key a retry answers with the rotation already made.");
    }

    private static IResult NotSet() => ApiProblem.NotFound("webhook_not_set", "A winners webhook for this workspace").ToResult();

    private static WinnersReceiverSecrets Secrets(WinnersReceiver r)
        => new(r.Url, r.Secrets.Primary, r.Secrets.Previous, r.Secrets.PreviousUntil, r.Secrets.RotatedAt);

    public static async Task<IResult> Get(string workspaceId, WinnersReceivers receivers, CancellationToken ct)
        => await receivers.GetAsync(workspaceId, ct) is { } found ? Results.Ok(Secrets(found.Receiver)) : NotSet();

    public static async Task<IResult> Put(string workspaceId, WinnersReceiverInput input, StaffGrant grant, WinnersReceivers receivers,
        WorkspaceStore workspaces, IOptions<WinnersOptions> options, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var found = await receivers.GetAsync(workspaceId, ct);
        if (input.Url is null)
        {
            if (found is null) return Results.Ok(new WinnersReceiverView(null, null, null));
            if (!await receivers.DeleteAsync(workspaceId, found.Value.ETag, ct)) return ApiProblem.Stale().ToResult();
            await workspaces.AuditAsync(new WorkspaceAuditEntry(workspaceId, now, grant.Subject, "winners.webhook_removed", null, null), ct);
            return Results.Ok(new WinnersReceiverView(null, null, now));
        }
        if (WebhookAddress.CheckUrl(input.Url, options.Value.AllowHttpLoopback) is { } bad) return ApiProblem.Validation("url", bad).ToResult();
        // The same URL keeps its secrets (saving the form again must not break the receiver); a new URL is a new receiver.
        if (found is { Receiver: var current } && current.Url == input.Url)
            return Results.Ok(new WinnersReceiverView(current.Url, null, current.UpdatedAt));
        var receiver = new WinnersReceiver(workspaceId, input.Url, WebhookSecrets.New(now), now, grant.Subject);
        if (!await receivers.SaveAsync(receiver, found?.ETag, ct)) return ApiProblem.Stale().ToResult();
        await workspaces.AuditAsync(new WorkspaceAuditEntry(workspaceId, now, grant.Subject, "winners.webhook_set", null, new Uri(input.Url).Host), ct);
        return Results.Ok(new WinnersReceiverView(receiver.Url, receiver.Secrets.Primary, now));
    }

    public static async Task<IResult> Rotate(string workspaceId, WinnersRotateInput? input, HttpRequest http, StaffGrant grant, WinnersReceivers receivers,
        WorkspaceStore workspaces, TimeProvider time, CancellationToken ct)
    {
        var key = IdempotencyKeys.Read(http);
        if (input?.OverlapHours is < 0 or > 720) return ApiProblem.Validation("overlapHours", "Use 0 to 720 hours.").ToResult();
        if (await receivers.GetAsync(workspaceId, ct) is not { } found) return NotSet();
        var now = time.GetUtcNow();
        var rotated = found.Receiver.Secrets.Rotate(StandardWebhook.NewSecret(), now, TimeSpan.FromHours(input?.OverlapHours ?? 24), key);
        if (ReferenceEquals(rotated, found.Receiver.Secrets)) return Results.Ok(Secrets(found.Receiver));
        var receiver = found.Receiver with { Secrets = rotated, UpdatedAt = now, UpdatedBy = grant.Subject };
        if (!await receivers.SaveAsync(receiver, found.ETag, ct)) return ApiProblem.Stale().ToResult();
        await workspaces.AuditAsync(new WorkspaceAuditEntry(workspaceId, now, grant.Subject, "winners.webhook_rotated", null, null), ct);
        return Results.Ok(Secrets(receiver));
    }
}
