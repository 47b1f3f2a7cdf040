using System.IO.Compression;
using System.Text.Json.Nodes;
using Campaigns.Deploy;
using Campaigns.Hosting;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Deploy;

/// <summary>
/// The deployment zip (scripts/package) in the host's layout. The package is assembled by the same code from the
/// handler's build output (framework-dependent here; scripts/package publishes self-contained and runs the same check).
/// </summary>
public sealed class PackageLayoutTests(PackageLayoutTests.PackageFixture fixture) : IClassFixture<PackageLayoutTests.PackageFixture>
{
    /// <summary>One package for the class: zipping the handler's output takes a few seconds.</summary>
    public sealed class PackageFixture : IDisposable
    {
        public string ZipPath { get; } = Package();
        public void Dispose() => Directory.Delete(Path.GetDirectoryName(ZipPath)!, recursive: true);
    }

    private static FunctionCatalog Catalog()
        => CampaignsApp.Build(["--LocalSettingsPath=/nonexistent/local.settings.json"]).Services.GetRequiredService<FunctionCatalog>();

    /// <summary>The handler project's own output folder (same configuration as this test assembly).</summary>
    private static string HandlerOutput()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        var dir = Path.Combine(Azurite.RepoRoot(), "functions", "Campaigns.Functions", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(dir, "Campaigns.Functions.dll")), $"Build the handler first: {dir}");
        return dir;
    }

    private static string Package()
    {
        var zip = Path.Combine(Directory.CreateTempSubdirectory("campaigns-package-").FullName, "campaigns-functions.zip");
        DeployPackage.Create(HandlerOutput(), Catalog(), zip);
        return zip;
    }

    [Fact]
    public void Package_has_host_json_at_the_root_one_folder_per_function_and_the_executable_handler()
    {
        var catalog = Catalog();
        var zipPath = fixture.ZipPath;
        Assert.Empty(DeployPackage.Check(zipPath, catalog, requireSelfContained: false));

        using var zip = ZipFile.OpenRead(zipPath);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("host.json", names);
        var host = JsonNode.Parse(zip.GetEntry("host.json")!.Open())!;
        var executable = host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>();
        Assert.Equal("Campaigns.Functions", executable);
        Assert.Contains(executable, names);
        Assert.NotEqual(0, (zip.GetEntry(executable)!.ExternalAttributes >> 16) & 0b001_000_000);

        var functionFolders = names.Where(n => n.EndsWith("/function.json", StringComparison.Ordinal)).Select(n => n.Split('/')[0]).Order(StringComparer.Ordinal);
        Assert.Equal(catalog.Functions.Select(f => f.Name), functionFolders);
        foreach (var f in catalog.Functions)
            Assert.True(JsonNode.DeepEquals(f.ToFunctionJson(), JsonNode.Parse(zip.GetEntry($"{f.Name}/function.json")!.Open())));
        Assert.DoesNotContain("local.settings.json", names);
    }

    [Fact]
    public void Package_carries_the_linux_x64_native_libraries_the_app_depends_on()
    {
        var output = HandlerOutput();
        var natives = DeployPackage.LinuxNativeAssets(JsonNode.Parse(File.ReadAllText(Path.Combine(output, "Campaigns.Functions.deps.json"))));
        using var zip = ZipFile.OpenRead(fixture.ZipPath);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var native in natives) Assert.Contains(native, names);
        // Image processing (NetVips) needs libvips for linux-x64 inside the package: the host has none.
        if (File.Exists(Path.Combine(output, "NetVips.dll")))
            Assert.Contains(names, n => n.EndsWith("/libvips.so.42", StringComparison.Ordinal) || n == "libvips.so.42");
    }

    [Fact]
    public void Check_reports_missing_extra_and_stale_functions_and_a_lost_executable_bit()
    {
        var catalog = Catalog();
        var zipPath = Path.Combine(Directory.CreateTempSubdirectory("campaigns-package-").FullName, "broken.zip");
        File.Copy(fixture.ZipPath, zipPath);
        var first = catalog.Functions[0].Name;
        using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Update))
        {
            zip.GetEntry($"{first}/function.json")!.Delete();
            using (var w = new StreamWriter(zip.CreateEntry("Ghost/function.json").Open())) w.Write("{\"bindings\":[]}");
            zip.GetEntry("Campaigns.Functions")!.ExternalAttributes = 0b110_100_100 << 16;
        }
        var problems = DeployPackage.Check(zipPath, catalog, requireSelfContained: true);
        Assert.Contains(problems, p => p.Contains($"Function '{first}' has no", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Ghost/function.json belongs to no function", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("is not executable", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("not self-contained", StringComparison.Ordinal));
        Directory.Delete(Path.GetDirectoryName(zipPath)!, recursive: true);
    }

    [Fact]
    public void Native_assets_are_taken_for_linux_x64_only()
    {
        var deps = JsonNode.Parse("""
            { "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0" },
              "targets": { ".NETCoreApp,Version=v10.0": {
                "NetVips.Native.linux-x64/8.18.7": { "runtimeTargets": {
                  "runtimes/linux-x64/native/libvips.so.42": { "rid": "linux-x64", "assetType": "native" } } },
                "Other/1.0": { "runtimeTargets": {
                  "runtimes/win-x64/native/other.dll": { "rid": "win-x64", "assetType": "native" },
                  "runtimes/unix/lib/net10.0/Other.dll": { "rid": "unix", "assetType": "runtime" } } },
                "SelfContained/1.0": { "native": { "libSystem.Native.so": {} } } } } }
            """);
        Assert.Equal(["libSystem.Native.so", "runtimes/linux-x64/native/libvips.so.42"], DeployPackage.LinuxNativeAssets(deps).Order(StringComparer.Ordinal));
    }
}
