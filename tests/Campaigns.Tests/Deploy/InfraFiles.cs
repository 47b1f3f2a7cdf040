using System.Text.Json;
using System.Text.RegularExpressions;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Deploy;

/// <summary>Reads the infrastructure files the deploy tests compare with the program.</summary>
internal static partial class InfraFiles
{
    public static string Path(params string[] parts) => System.IO.Path.Combine([Azurite.RepoRoot(), .. parts]);

    /// <summary>The app settings of main.bicep: the `var appSettings = { ... }` block, one `Name: value` per line.</summary>
    public static IReadOnlyDictionary<string, string> BicepAppSettings()
    {
        var lines = File.ReadAllLines(Path("infra-bicep", "main.bicep"));
        var start = Array.FindIndex(lines, l => l.StartsWith("var appSettings = {", StringComparison.Ordinal));
        if (start < 0) throw new InvalidOperationException("infra-bicep/main.bicep has no `var appSettings = {` block.");
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = start + 1; i < lines.Length && lines[i] != "}"; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal)) continue;
            var m = SettingLine().Match(line);
            if (!m.Success) throw new InvalidOperationException($"main.bicep appSettings: cannot read line '{line}' (write one `Name: value` per line).");
            settings.Add(m.Groups["name"].Value, m.Groups["value"].Value.Trim());
        }
        return settings;
    }

    [GeneratedRegex(@"^'?(?<name>[A-Za-z_][A-Za-z0-9_]*)'?\s*:\s*(?<value>.+)$")]
    private static partial Regex SettingLine();

    public static IReadOnlyDictionary<string, string> SampleValues()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path("local.settings.sample.json")));
        return doc.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
    }

    public static IReadOnlyDictionary<string, string> LocalOnlySettings()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path("infra-bicep", "local-only-settings.json")));
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
    }

    /// <summary>A Bicep single-quoted literal's text, or null for an expression.</summary>
    public static string? Literal(string bicepValue)
        => bicepValue.Length >= 2 && bicepValue[0] == '\'' && bicepValue[^1] == '\'' && !bicepValue.Contains("${", StringComparison.Ordinal)
            ? bicepValue[1..^1] : null;
}
