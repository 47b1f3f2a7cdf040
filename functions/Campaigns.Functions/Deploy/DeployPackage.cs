using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Campaigns.Hosting;

namespace Campaigns.Deploy;

/// <summary>
/// The deployment zip in the Functions host's layout: host.json at the root, one &lt;Function&gt;/function.json
/// per registered function (generated from the catalog, as emit-functions does), and the handler with its
/// files and native libraries. scripts/package and the layout test both use this class.
/// </summary>
public static class DeployPackage
{
    private const string HostJson = "host.json";

    /// <summary>Zips <paramref name="appDir"/> (a publish or build output that holds host.json) plus the function.json files.</summary>
    public static void Create(string appDir, FunctionCatalog catalog, string zipPath)
    {
        if (!File.Exists(Path.Combine(appDir, HostJson)))
            throw new InvalidOperationException($"{appDir} has no {HostJson}; build or publish the app first.");
        var clashes = catalog.Functions.Where(f => Directory.Exists(Path.Combine(appDir, f.Name)) || File.Exists(Path.Combine(appDir, f.Name)))
            .Select(f => f.Name).ToList();
        if (clashes.Count > 0)
            throw new InvalidOperationException($"Function folders would clash with files of the app: {string.Join(", ", clashes)}.");

        var functionsDir = Directory.CreateTempSubdirectory("campaigns-functions-");
        try
        {
            catalog.WriteFunctionJson(functionsDir.FullName);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(zipPath))!);
            File.Delete(zipPath);
            using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create);
            // Unix permissions travel in the entries (the handler must stay executable).
            foreach (var file in Directory.EnumerateFiles(appDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(appDir, file).Replace('\\', '/');
                if (IsLocalOnly(relative)) continue;
                zip.CreateEntryFromFile(file, relative, CompressionLevel.Optimal);
            }
            foreach (var file in Directory.EnumerateFiles(functionsDir.FullName, "function.json", SearchOption.AllDirectories))
                zip.CreateEntryFromFile(file, Path.GetRelativePath(functionsDir.FullName, file).Replace('\\', '/'), CompressionLevel.Optimal);
        }
        finally
        {
            functionsDir.Delete(recursive: true);
        }
    }

    // Developer-only files never ship: local settings (Azurite keys, dev signing key) and local state.
    private static bool IsLocalOnly(string relative)
        => relative is "local.settings.json" || relative.StartsWith(".azurite/", StringComparison.Ordinal) || relative.EndsWith(".zip", StringComparison.Ordinal);

    /// <summary>
    /// Checks a package against the program: what the host needs to find, every function and nothing else, the
    /// handler executable, and the native libraries the app's deps.json names for linux-x64. Empty when valid.
    /// </summary>
    public static IReadOnlyList<string> Check(string zipPath, FunctionCatalog catalog, bool requireSelfContained)
    {
        var problems = new List<string>();
        using var zip = ZipFile.OpenRead(zipPath);
        var entries = zip.Entries.Where(e => !e.FullName.EndsWith('/')).ToDictionary(e => e.FullName, StringComparer.Ordinal);

        // host.json and the custom handler section.
        string? executable = null;
        if (!entries.TryGetValue(HostJson, out var hostEntry)) problems.Add("host.json is not at the root of the package.");
        else
        {
            var host = ReadJson(hostEntry);
            executable = host?["customHandler"]?["description"]?["defaultExecutablePath"]?.GetValue<string>();
            if (host?["version"]?.GetValue<string>() != "2.0") problems.Add("host.json: \"version\" must be \"2.0\".");
            if (string.IsNullOrEmpty(executable)) problems.Add("host.json: customHandler.description.defaultExecutablePath is missing.");
            if (host?["customHandler"]?["enableProxyingHttpRequest"]?.GetValue<bool>() != true)
                problems.Add("host.json: customHandler.enableProxyingHttpRequest must be true (the Api function is proxied).");
        }

        // The handler: the executable named by host.json, at the root, executable, with its assembly.
        if (executable is not null)
        {
            if (!entries.TryGetValue(executable, out var exe)) problems.Add($"The handler '{executable}' named by host.json is not at the root of the package.");
            else if (((exe.ExternalAttributes >> 16) & 0b001_001_001) == 0) problems.Add($"The handler '{executable}' is not executable (unix mode lost).");
            if (!entries.ContainsKey(executable + ".dll")) problems.Add($"{executable}.dll is missing.");
        }

        // Functions: exactly the catalog, each with the generated function.json.
        var expected = catalog.Functions.ToDictionary(f => f.Name + "/function.json", f => f, StringComparer.Ordinal);
        foreach (var (path, f) in expected)
        {
            if (!entries.TryGetValue(path, out var entry)) { problems.Add($"Function '{f.Name}' has no {path}."); continue; }
            if (!JsonNode.DeepEquals(ReadJson(entry), f.ToFunctionJson())) problems.Add($"{path} differs from what the program generates for '{f.Name}'.");
        }
        foreach (var extra in entries.Keys.Where(k => k.EndsWith("/function.json", StringComparison.Ordinal) && !expected.ContainsKey(k)))
            problems.Add($"{extra} belongs to no function the program serves.");

        // Native libraries the app needs on Linux x64 (from deps.json), e.g. libvips when NetVips is referenced.
        if (executable is not null && entries.TryGetValue(executable + ".deps.json", out var depsEntry))
        {
            var natives = LinuxNativeAssets(ReadJson(depsEntry));
            foreach (var native in natives)
            {
                var name = native.Split('/')[^1];
                if (!entries.ContainsKey(native) && !entries.ContainsKey(name))
                    problems.Add($"Native library {name} ({native} in deps.json) is missing.");
            }
            var deps = depsEntry.Open();
            using var reader = new StreamReader(deps);
            if (reader.ReadToEnd().Contains("\"NetVips", StringComparison.Ordinal) && !entries.Keys.Any(k => k.Split('/')[^1] == "libvips.so.42"))
                problems.Add("NetVips is referenced but libvips.so.42 is not in the package (reference NetVips.Native.linux-x64).");
        }
        else if (executable is not null) problems.Add($"{executable}.deps.json is missing.");

        if (requireSelfContained && !entries.ContainsKey("libcoreclr.so"))
            problems.Add("The package is not self-contained for linux-x64 (libcoreclr.so missing); the custom runtime has no .NET installed.");
        return problems;
    }

    /// <summary>Native assets that run on linux-x64: RID-agnostic "native" entries and "runtimeTargets" for linux-x64/linux/unix.</summary>
    public static IReadOnlyList<string> LinuxNativeAssets(JsonNode? deps)
    {
        var result = new List<string>();
        var target = deps?["runtimeTarget"]?["name"]?.GetValue<string>();
        if (target is null || deps?["targets"]?[target] is not JsonObject libraries) return result;
        foreach (var (_, library) in libraries)
        {
            if (library?["native"] is JsonObject native) result.AddRange(native.Select(n => n.Key));
            if (library?["runtimeTargets"] is JsonObject targets)
            {
                result.AddRange(targets
                    .Where(t => t.Value?["assetType"]?.GetValue<string>() == "native"
                        && t.Value?["rid"]?.GetValue<string>() is "linux-x64" or "linux" or "unix")
                    .Select(t => t.Key));
            }
        }
        return result.Distinct().ToList();
    }

    private static JsonNode? ReadJson(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        return JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
    }
}
