using System.Diagnostics;

namespace Campaigns.Tests.Infrastructure;

/// <summary>
/// The service as a separate process (`dotnet Campaigns.Functions.dll`), settings through the environment, that a test
/// can kill hard (SIGKILL) at any moment: what a crashed or recycled instance leaves behind is what the next one finds.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    public HttpClient Http { get; }
    public string Workspace { get; }

    private ServiceProcess(Process process, int port, string workspace)
    {
        _process = process;
        Workspace = workspace;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <param name="standalone">Whether the process runs its own queue pollers and timers; without them it only answers HTTP.</param>
    public static async Task<ServiceProcess> StartAsync(IDictionary<string, string?> settings, bool standalone, string workspace)
    {
        var port = Azurite.FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Campaigns.Functions.dll"), "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = Path.GetTempPath(), // no local.settings.json: everything comes from the environment
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var (k, v) in settings) psi.Environment[k.Replace(":", "__")] = v;
        psi.Environment["Hosting__Standalone"] = standalone ? "true" : "false";
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, port, workspace);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if (!(await service.Http.GetAsync("/")).IsSuccessStatusCode) continue;
                await TestApp.EnsureWorkspaceAsync(workspace);
                return service;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited) { await Task.Delay(200); }
        }
    }

    public HttpClient As(string role, string subject) => TestApp.ClientFor(Http.BaseAddress!, Workspace, role, subject);

    /// <summary>SIGKILL: no shutdown hooks, no in-flight handler finishes.</summary>
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
