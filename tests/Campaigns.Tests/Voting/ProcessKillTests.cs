using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Voting;

/// <summary>
/// The service as a separate process, killed hard (SIGKILL) after answering 202s and restarted: the votes it accepted are
/// durable and a fresh process counts each exactly once. (A crash in the middle of a counter batch is covered in-process
/// by <see cref="ExactlyOnceTests"/>: a killed worker's message stays leased for minutes, too long for a test.)
/// </summary>
public sealed class ProcessKillTests
{
    private sealed class Service : IAsyncDisposable
    {
        public const string Workspace = "process-kill-tests";

        private readonly Process _process;
        public HttpClient Http { get; }

        private Service(Process process, int port)
        {
            _process = process;
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        }

        public static async Task<Service> StartAsync(Dictionary<string, string?> settings, bool counts)
        {
            var port = Azurite.FreePort();
            var psi = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Campaigns.Functions.dll"), "--urls", $"http://127.0.0.1:{port}" },
                WorkingDirectory = Path.GetTempPath(), // no local.settings.json: everything comes from the environment
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var (k, v) in settings) psi.Environment[k.Replace(":", "__")] = v;
            // Without its standalone triggers the process only accepts votes (as under the Functions host between invocations).
            psi.Environment["Hosting__Standalone"] = counts ? "true" : "false";
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var service = new Service(process, port);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    if (!(await service.Http.GetAsync("/")).IsSuccessStatusCode) continue;
                    await TestApp.EnsureWorkspaceAsync(Workspace);
                    return service;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited) { await Task.Delay(200); }
            }
        }

        public HttpClient As(string role, string subject)
        {
            return TestApp.ClientFor(Http.BaseAddress!, Workspace, role, subject);
        }

        public void Kill()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public ValueTask DisposeAsync()
        {
            Kill();
            Http.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Votes_accepted_by_a_process_killed_before_counting_are_counted_exactly_once_after_a_restart()
    {
        var settings = TestApp.Settings(Azurite.Instance);
        foreach (var (k, v) in VotingKit.Settings()) settings[k] = v;
        var id = VotingKit.NewId();
        var now = DateTimeOffset.UtcNow;
        var colours = new[] { "red", "blue", "green" };

        await using (var first = await Service.StartAsync(settings, counts: false))
        {
            var marketer = first.As("marketer", "m-1");
            var created = await marketer.PostAsJsonAsync("/api/campaigns", new
            {
                id,
                workspaceId = Service.Workspace,
                name = "Kill test",
                brand = "Cars",
                timeZone = "Europe/Berlin",
                locales = new[] { "en" },
                features = new[] { "voting" },
                windows = new { publish = VotingKit.Window(now.AddDays(-1), now.AddDays(5)), voting = VotingKit.Window(now.AddHours(-1), now.AddDays(2)) },
            });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
            Assert.True((await marketer.PutAsJsonAsync($"/api/campaigns/{id}/ballot", VotingKit.Ballot())).IsSuccessStatusCode);

            var responses = await Task.WhenAll(Enumerable.Range(0, 150).Select(i => first.As("fan", $"kill-fan-{i}")
                .PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", colours[i % 3]), ("wheels", "sport")))));
            Assert.All(responses, r => Assert.Equal(202, (int)r.StatusCode));
            // Nothing is counted yet: the accepted votes exist only in the queue when the process dies.
            Assert.Equal(0, (await VotingKit.TallyAsync(first.As("owner", "a-1"), id)).GetProperty("votesCounted").GetInt64());
            first.Kill();
        }

        await using var second = await Service.StartAsync(settings, counts: true);
        var admin = second.As("owner", "a-1");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        System.Text.Json.JsonElement tally;
        while (true)
        {
            tally = await VotingKit.TallyAsync(admin, id);
            if (tally.GetProperty("votesCounted").GetInt64() >= 150 || DateTime.UtcNow > deadline) break;
            await Task.Delay(200);
        }
        Assert.Equal(150, tally.GetProperty("votesCounted").GetInt64());
        Assert.Equal(50, VotingKit.Count(tally, "colour", "red"));
        Assert.Equal(50, VotingKit.Count(tally, "colour", "blue"));
        Assert.Equal(50, VotingKit.Count(tally, "colour", "green"));
        Assert.Equal(150, VotingKit.Count(tally, "wheels", "sport"));
    }
}
