using System.Text.Json;

namespace Campaigns.Platform;

/// <summary>
/// Loads the "Values" of local.settings.json (the Functions local convention) as configuration, so the
/// standalone program and the Functions host read the same file. "A__B" keys become "A:B".
/// </summary>
public static class LocalSettings
{
    public static IDictionary<string, string?> Read(string path)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path)) return values;
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!doc.RootElement.TryGetProperty("Values", out var v)) return values;
        foreach (var p in v.EnumerateObject())
            values[p.Name.Replace("__", ":", StringComparison.Ordinal)] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
        return values;
    }
}
