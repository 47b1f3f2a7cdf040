using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Campaigns.Tests.Infrastructure;

/// <summary>
/// A real Azurite (from the repo's pinned npm package) on free loopback ports, in memory, shared by the test run.
/// It is killed hard on exit: Azurite can ignore SIGTERM after heavy load.
/// </summary>
public sealed class Azurite
{
    private static readonly Lazy<Azurite> Shared = new(() => Start());
    public static Azurite Instance => Shared.Value;

    private readonly Process _process;

    private Azurite(Process process, int blob, int queue, int table)
    {
        _process = process;
        BlobPort = blob; QueuePort = queue; TablePort = table;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill();
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Campaigns.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Campaigns.sln).");
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static Azurite Start()
    {
        var exe = Path.Combine(RepoRoot(), "node_modules", ".bin", "azurite");
        if (!File.Exists(exe))
            throw new InvalidOperationException($"Azurite is not installed at {exe}; scripts/test runs 'npm ci' first.");
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var psi = new ProcessStartInfo(exe)
        {
            ArgumentList =
            {
                "--skipApiVersionCheck", "--disableTelemetry", "--inMemoryPersistence", "--silent", "--loose",
                "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                "--blobPort", blob.ToString(), "--queuePort", queue.ToString(), "--tablePort", table.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Azurite did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var port in new[] { blob, queue, table })
        {
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"Azurite exited with {process.ExitCode}.");
                try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); break; }
                catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(100); }
            }
        }
        return new Azurite(process, blob, queue, table);
    }

    private void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }
}
