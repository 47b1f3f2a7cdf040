using System.Security.Claims;
using System.Text.Json;
using Campaigns.Hosting;
using Campaigns.Platform;
using Campaigns.Winners;
using Campaigns.Workspaces;
using Microsoft.Extensions.Options;

namespace Campaigns.DataRights;

/// <summary>Fans' data rights: export, erasure (a queued job) and the expiry of records kept after an erasure.</summary>
public static class DataRightsApi
{
    public const string ErasureFunction = "DataErasure";
    public const string KeptExpiryFunction = "DataRightsKeptExpiry";

    public static void AddDataRights(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<DataRightsOptions>().Bind(builder.Configuration.GetSection(DataRightsOptions.Section)).ValidateOnStart();
        s.AddSingleton<IValidateOptions<DataRightsOptions>, DataRightsOptionsValidator>();
        s.AddTable(DataRightsStore.TableName);
        s.AddSingleton<DataRightsStore>();
        s.AddSingleton<FanErasure>();
        s.AddSingleton<ErasureRequests>();
        s.AddSingleton<KeptRecordExpiry>();
        s.AddSingleton<FanExport>();
        // The queue name is a setting read raw when the catalog is built, after every configuration source is added.
        s.AddSingleton(sp => new Hosting.FunctionDefinition(ErasureFunction, new Hosting.QueueTrigger(
                sp.GetRequiredService<IConfiguration>()["DataRights:ErasureQueue"] is { Length: > 0 } q ? q : new DataRightsOptions().ErasureQueue),
            async inv => { await FanErasure.HandleAsync(inv); return null; }));
        s.AddTimerFunction(KeptExpiryFunction, "0 20 3 * * *", inv => inv.Service<KeptRecordExpiry>().RunAsync(inv.Cancellation));
    }

    public static void MapDataRights(this WebApplication app)
    {
        var me = app.MapGroup("/api/me").WithTags("Data rights").RequireAuthorization(Policies.Fan);
        me.MapGet("/export", Export).WithSummary("Everything stored about the caller across campaigns, as JSON; media through read URLs valid a few minutes.");
        me.MapPost("/erasure", RequestErasure).WithSummary("Erase the caller's data everywhere: queues a job and answers 202 with its status.");
        me.MapPost("/submissions/{campaignId}/{entryId}/withdraw", Withdraw)
            .WithSummary("Withdraw one of the caller's entries: its public media, derivatives and texts go, it leaves the gallery; repeatable.");
        me.MapGet("/erasure", ErasureStatus).WithSummary("The status of the caller's erasure job; 'done' once every store has finished.");

        var staff = app.MapGroup("/api/campaigns/{campaignId}/data-requests").WithTags("Data rights");
        staff.MapPost("/export", StaffExport).Requires(Powers.FanDataRequests)
            .WithSummary("A fan's data in this workspace's campaigns, for the fan's request; audited in the workspace.");
        staff.MapPost("/erasure", StaffErasure).Requires(Powers.FanDataRequests)
            .WithSummary("Erase a fan's data in this workspace's campaigns: queues a job (202); audited in the workspace.");
        staff.MapGet("/erasure/{jobId}", StaffErasureStatus).Requires(Powers.FanDataRequests)
            .WithSummary("The status of a workspace erasure job.");
    }

    private static async Task<IResult> Export(ClaimsPrincipal user, FanExport export, CancellationToken ct)
        => Results.Ok(await export.BuildAsync(user.Subject(), ErasureScopes.All, ct));

    private static async Task<IResult> RequestErasure(ClaimsPrincipal user, ErasureRequests requests, CancellationToken ct)
    {
        var job = await requests.RequestAsync(user.Subject(), ErasureScopes.All, "fan", ct);
        return Results.Accepted("/api/me/erasure", ErasureView.Of(job));
    }

    private static async Task<IResult> Withdraw(string campaignId, string entryId, ClaimsPrincipal user, Submissions.SubmissionService submissions,
        FanErasure erasure, TimeProvider time, CancellationToken ct)
    {
        if (await submissions.GetOwnAsync(campaignId, entryId, user.Subject(), ct) is not { } entry)
            return ApiProblem.NotFound("submission_not_found", "The submission").ToResult();
        var withdrawn = await erasure.WithdrawAsync(entry, time.GetUtcNow(), ct);
        return Results.Ok(await submissions.OwnViewAsync(withdrawn, ct));
    }

    private static async Task<IResult> ErasureStatus(ClaimsPrincipal user, DataRightsStore store, CancellationToken ct)
        => await store.GetJobAsync(ErasureJob.IdOf(user.Subject(), ErasureScopes.All), ct) is { } found
            ? Results.Ok(ErasureView.Of(found.Job))
            : ApiProblem.NotFound("erasure_not_found", "An erasure request").ToResult();

    private static async Task<IResult> StaffExport(string campaignId, FanDataRequestInput input, StaffGrant grant, FanExport export,
        WorkspaceStore workspaces, TimeProvider time, CancellationToken ct)
    {
        if (ValidFan(input) is { } bad) return bad.ToResult();
        // The read is recorded before anything is shown, so no export goes unaudited; the trail names the fan by a one-way reference.
        await workspaces.AuditAsync(new WorkspaceAuditEntry(grant.WorkspaceId!, time.GetUtcNow(), grant.Subject, "fan_data.exported",
            FanRef.Of(input.FanId), $"request through campaign {campaignId}"), ct);
        return Results.Ok(await export.BuildAsync(input.FanId, ErasureScopes.Workspace(grant.WorkspaceId!), ct));
    }

    private static async Task<IResult> StaffErasure(string campaignId, FanDataRequestInput input, StaffGrant grant, ErasureRequests requests,
        WorkspaceStore workspaces, TimeProvider time, CancellationToken ct)
    {
        if (ValidFan(input) is { } bad) return bad.ToResult();
        var scope = ErasureScopes.Workspace(grant.WorkspaceId!);
        await workspaces.AuditAsync(new WorkspaceAuditEntry(grant.WorkspaceId!, time.GetUtcNow(), grant.Subject, "fan_data.erasure_requested",
            FanRef.Of(input.FanId), ErasureJob.IdOf(input.FanId, scope)), ct);
        var job = await requests.RequestAsync(input.FanId, scope, grant.Subject, ct);
        return Results.Accepted($"/api/campaigns/{campaignId}/data-requests/erasure/{job.JobId}", ErasureView.Of(job));
    }

    private static async Task<IResult> StaffErasureStatus(string campaignId, string jobId, StaffGrant grant, DataRightsStore store, CancellationToken ct)
        => ErasureJobIdPattern(jobId) && await store.GetJobAsync(jobId, ct) is { } found && found.Job.Scope == ErasureScopes.Workspace(grant.WorkspaceId!)
            ? Results.Ok(ErasureView.Of(found.Job))
            : ApiProblem.NotFound("erasure_not_found", "The erasure job").ToResult();

    private static bool ErasureJobIdPattern(string id) => id.Length == 35 && id.StartsWith("er-", StringComparison.Ordinal) && id[3..].All(char.IsAsciiHexDigitLower);

    private static ApiProblem? ValidFan(FanDataRequestInput? input)
        => input?.FanId is { Length: > 0 and <= 256 } f && !f.Any(char.IsControl) ? null : ApiProblem.Validation("fanId", "The fan's id (token subject), 1–256 characters.");
}

/// <summary>What the requester sees of a job: its steps and whether every store has finished.</summary>
public sealed record ErasureView(string JobId, string Status, int Run, DateTimeOffset RequestedAt, DateTimeOffset? CompletedAt, string[] Finished, string[] Steps)
{
    public static ErasureView Of(ErasureJob j) => new(j.JobId, j.Status, j.Run, j.RequestedAt, j.CompletedAt, j.Done, FanErasure.Steps);
}

/// <summary>
/// Creates or re-opens the job for (fan, scope), then queues its message. The status row is written first, so a
/// message always finds it; a job still queued is queued again (a message lost in a crash would otherwise leave it
/// waiting for ever; a duplicate is harmless), a running one is left to finish, a finished one starts a new run.
/// </summary>
public sealed class ErasureRequests(DataRightsStore store, StorageClients storage, IOptions<DataRightsOptions> options, TimeProvider time)
{
    public async Task<ErasureJob> RequestAsync(string fanId, string scope, string requestedBy, CancellationToken ct)
    {
        var id = ErasureJob.IdOf(fanId, scope);
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var found = await store.GetJobAsync(id, ct);
            var job = found switch
            {
                null => new ErasureJob(id, scope, ErasureStatuses.Queued, 1, now, requestedBy, []),
                { Job.Status: ErasureStatuses.Done } f => f.Job with
                {
                    Status = ErasureStatuses.Queued, Run = f.Job.Run + 1, RequestedAt = now, RequestedBy = requestedBy, Done = [], CompletedAt = null,
                },
                { } f => f.Job,
            };
            if (job.Status == ErasureStatuses.Running) return job;
            if (!ReferenceEquals(job, found?.Job) && await store.SaveJobAsync(job, found?.ETag, ct) is null)
            {
                if (attempt < 3) continue; // another request got there first: read it again
                throw new ProblemException(ApiProblem.Conflict("erasure_changed", "The erasure request changed at the same time; try again."));
            }
            await storage.Queue(options.Value.ErasureQueue).SendMessageAsync(
                JsonSerializer.Serialize(new ErasureMessage(id, fanId, scope, job.Run), JsonDefaults.Options), ct);
            return job;
        }
    }
}

/// <summary>
/// Daily: records kept after an erasure whose keep-until date has passed are removed — the row deleted, or a winner's
/// slot stripped of the fan id (the pid stays in the published record) — then the kept record itself.
/// </summary>
public sealed class KeptRecordExpiry(DataRightsStore store, StorageClients storage, DrawStore draws, TimeProvider time, ILogger<KeptRecordExpiry> logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        var due = new List<KeptRecord>();
        await foreach (var k in store.KeptAsync(time.GetUtcNow(), ct)) due.Add(k);
        foreach (var k in due)
        {
            if (k.ExpiryAction == KeptRecord.DeleteRow)
                await FanErasure.DeleteRowAsync(storage.Table(k.Table), k.PartitionKey, k.RowKey, ct);
            else if (k.ExpiryAction == KeptRecord.ScrubWinnerSlot && k.CampaignId is { } campaignId && k.RowKey.StartsWith("draw|", StringComparison.Ordinal)
                     && await draws.GetAsync(campaignId, k.RowKey["draw|".Length..], ct) is { } found)
            {
                var s = found.State;
                var next = s with
                {
                    // The slot's pid names the kept person: a later promotion into the same position is someone else.
                    Slots = s.Slots?.Select(x => x.Position == k.Position && x.Pid == k.Pid ? x with { FanId = "" } : x).ToList(),
                    Outbox = s.Outbox?.Where(n => n.Position != k.Position || n.Pid != k.Pid).ToList(),
                };
                if (s.Slots?.Any(x => x.Position == k.Position && x.Pid == k.Pid && x.FanId != "") == true) await draws.SaveAsync(next, found.ETag, ct);
            }
            await store.DeleteKeptAsync(k.Id, ct);
            logger.LogInformation("Kept record {KeptId} ({Reason}) expired and was removed", k.Id, k.Reason);
        }
    }
}
