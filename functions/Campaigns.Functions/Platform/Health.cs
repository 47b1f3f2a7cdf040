using Microsoft.AspNetCore.Authorization;

namespace Campaigns.Platform;

public static class HealthApi
{
    public static void MapHealth(this WebApplication app)
    {
        app.MapGet("/api/health", async (StorageClients storage, TimeProvider time, CancellationToken ct) =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var checks = new Dictionary<string, string>();
                async Task Check(string name, Func<Task> probe)
                {
                    try { await probe(); checks[name] = "ok"; }
                    catch (Exception) { checks[name] = "unreachable"; }
                }
                await Task.WhenAll(
                    Check("tables", async () => { await foreach (var _ in storage.Tables.QueryAsync(maxPerPage: 1, cancellationToken: timeout.Token).AsPages()) break; }),
                    Check("queues", async () => { await foreach (var _ in storage.Queues.GetQueuesAsync(cancellationToken: timeout.Token).AsPages(pageSizeHint: 1)) break; }),
                    Check("blobs", async () => { await foreach (var _ in storage.Blobs.GetBlobContainersAsync(cancellationToken: timeout.Token).AsPages(pageSizeHint: 1)) break; }));
                var healthy = checks.Values.All(v => v == "ok");
                return Results.Json(new { status = healthy ? "healthy" : "unhealthy", checks, time = time.GetUtcNow() },
                    statusCode: healthy ? 200 : 503);
            })
            .AllowAnonymous()
            .WithTags("Operations")
            .WithSummary("Storage reachability.");
    }
}

/// <summary>Marks a route group as open to anonymous callers (public microsite reads).</summary>
public static class PublicEndpoints
{
    public static RouteGroupBuilder Public(this RouteGroupBuilder group) => group.WithMetadata(new AllowAnonymousAttribute());
}
