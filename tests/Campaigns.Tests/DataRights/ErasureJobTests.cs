using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.DataRights;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.DataRights;

public sealed class ErasureJobTests
{
    private static string Delivery(ErasureMessage m)
        => JsonSerializer.Serialize(new { Data = new { message = JsonSerializer.Serialize(m, JsonDefaults.Options) }, Metadata = new { DequeueCount = 1 } });

    [Fact]
    public async Task A_job_resumes_after_its_last_finished_step_stale_and_repeated_messages_change_nothing_and_errors_escape()
    {
        await using var app = await TestApp.StartAsync();
        var store = app.Service<DataRightsStore>();
        var fanId = "job-fan-" + Guid.NewGuid().ToString("N")[..8];
        var fan = app.As("fan", fanId);
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync("/api/me/profile", new { displayName = "Job" })).StatusCode);
        var id = ErasureJob.IdOf(fanId, ErasureScopes.All);

        // No status row: the handler fails, so the host retries and finally parks the message (no silent success).
        var orphan = await app.InvokeAsync(DataRightsApi.ErasureFunction, Delivery(new ErasureMessage(id, fanId, ErasureScopes.All, 1)));
        Assert.False(orphan.IsSuccessStatusCode);

        // A run stopped after two steps (the process died): the next delivery does the rest and reports done.
        var now = DateTimeOffset.UtcNow;
        Assert.NotNull(await store.SaveJobAsync(new ErasureJob(id, ErasureScopes.All, ErasureStatuses.Running, 1, now, "fan", ["votes", "moderation"]), null, default));
        Assert.Equal(200, (int)(await app.InvokeAsync(DataRightsApi.ErasureFunction, Delivery(new ErasureMessage(id, fanId, ErasureScopes.All, 1)))).StatusCode);
        var (job, etag) = (await store.GetJobAsync(id, default))!.Value;
        Assert.Equal(ErasureStatuses.Done, job.Status);
        Assert.Equal(FanErasure.Steps, job.Done);
        await (await fan.GetAsync("/api/me/profile")).Problem(404, "profile_not_found");

        // The same message again, and one of an older run: harmless, the job row is not even rewritten.
        Assert.Equal(200, (int)(await app.InvokeAsync(DataRightsApi.ErasureFunction, Delivery(new ErasureMessage(id, fanId, ErasureScopes.All, 1)))).StatusCode);
        Assert.Equal(200, (int)(await app.InvokeAsync(DataRightsApi.ErasureFunction, Delivery(new ErasureMessage(id, fanId, ErasureScopes.All, 0)))).StatusCode);
        Assert.Equal(etag, (await store.GetJobAsync(id, default))!.Value.ETag);

        // The status the fan sees names steps, never the fan.
        var status = await fan.GetAsync("/api/me/erasure");
        Assert.Equal("done", (await status.Json()).GetProperty("status").GetString());
        Assert.DoesNotContain(fanId, await status.Content.ReadAsStringAsync());
        await (await app.As("fan").GetAsync("/api/me/erasure")).Problem(404, "erasure_not_found");
    }
}
