using System.Net.Http.Json;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Submissions;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Campaigns.Tests.Faults;

/// <summary>
/// A print batch whose process is killed (SIGKILL) while it claims labels, watched from storage: some labels claimed,
/// others still waiting. After the restart every label ends up in exactly one printed batch; none is lost.
/// </summary>
public sealed class PrintBatchKillTests(ITestOutputHelper output)
{
    private static object Template => new
    {
        width = 600, height = 300, backgroundColor = "#ffcc00", textColor = "#3a1f04",
        box = new { x = 50, y = 100, width = 500, height = 120 }, maxFontPoints = 40, printScale = 2,
    };

    [Fact]
    public async Task A_print_batch_killed_while_claiming_leaves_every_label_in_exactly_one_printed_batch_after_recovery()
    {
        const int labels = 40;
        // Setup and recovery run in-process on a fake clock (recovery is "later": past the abandon time); the batch that
        // is killed runs in its own process against the same storage.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(b => { Submit.WithReviewQueue()(b); b.Services.AddSingleton<TimeProvider>(time); });
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, time.GetUtcNow());
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", Template)).StatusCode);
        var ids = new List<string>();
        foreach (var chunk in Enumerable.Range(0, labels).Chunk(8))
            ids.AddRange(await Task.WhenAll(chunk.Select(async i =>
            {
                var (entryId, _, _) = await Submit.CreateAsync(app.As("fan", $"label-fan-{Guid.NewGuid():N}"), campaignId,
                    new { kind = "label", locale = "fr", text = $"Marie {i}", consent = Submit.Consent });
                await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", time.GetUtcNow()), CancellationToken.None);
                return entryId;
            })));
        var store = app.Service<SubmissionStore>();
        async Task<int> WaitingAsync() => (await store.RowKeysAsync(SubmissionStore.LabelQueuePartition(campaignId), 10_000, CancellationToken.None)).Count;
        Assert.Equal(labels, await WaitingAsync());

        var settings = TestApp.Settings(Azurite.Instance);
        settings["Demo:Seed"] = "false";
        int waitingAtKill;
        await using (var process = await ServiceProcess.StartAsync(settings, standalone: false, app.WorkspaceId))
        {
            var staff = process.As("marketer", "m-print");
            var batch = staff.PostAsync($"/api/campaigns/{campaignId}/print-batches", null);
            // Labels leave the waiting list one by one as the batch claims them: kill once some, not all, are claimed.
            while ((waitingAtKill = await WaitingAsync()) == labels && !batch.IsCompleted) await Task.Delay(5);
            process.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => batch); // the batch never answered
        }
        output.WriteLine($"killed with {labels - waitingAtKill} of {labels} labels claimed");
        Assert.InRange(waitingAtKill, 1, labels - 1);

        // Later (past the abandon time) the next run — the nightly timer or a marketer — finishes the dead batch and
        // batches whatever it never claimed.
        time.Advance(global::Campaigns.Labels.LabelService.AbandonedAfter + TimeSpan.FromMinutes(1));
        var next = await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null);
        Assert.Equal(201, (int)next.StatusCode);
        await (await marketer.PostAsync($"/api/campaigns/{campaignId}/print-batches", null)).Problem(409, "nothing_to_print");

        var printed = new List<string>();
        var batches = (await (await marketer.GetAsync($"/api/campaigns/{campaignId}/print-batches")).Json()).GetProperty("items").EnumerateArray().ToList();
        foreach (var b in batches)
        {
            var csv = await marketer.GetStringAsync($"/api/campaigns/{campaignId}/print-batches/{b.GetProperty("batchId").GetString()}/manifest");
            var rows = csv.TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')[0].Trim('"')).ToList();
            Assert.Equal(b.GetProperty("count").GetInt32(), rows.Count);
            printed.AddRange(rows);
        }
        Assert.Equal(2, batches.Count); // the killed batch, finished, and one for the labels it never claimed
        Assert.Equal(printed.Count, printed.Distinct().Count());
        Assert.Equal(ids.Order(), printed.Order());
        Assert.Equal(0, await WaitingAsync());
    }
}
