using System.Text.RegularExpressions;
using Campaigns.Platform;
using Campaigns.Tests.Deploy;

namespace Campaigns.Tests.Privacy;

/// <summary>docs/privacy.md lists every table, queue and container the program registers, and nothing else.</summary>
public sealed partial class InventoryTests
{
    [Fact]
    public void The_privacy_inventory_has_a_row_for_every_registered_resource_and_none_for_others()
    {
        var app = StorageManifest.FromServices(CampaignsApp.Build(["--LocalSettingsPath=/nonexistent/local.settings.json"]).Services);
        var registered = app.Tables.Select(n => ("table", n))
            .Concat(app.Queues.Select(n => ("queue", n)))
            .Concat(app.Containers.Select(n => ("container", n)))
            .ToHashSet();
        var rows = InventoryRows(File.ReadAllText(InfraFiles.Path("docs", "privacy.md")));

        var problems = new List<string>();
        foreach (var dup in rows.GroupBy(r => r).Where(g => g.Count() > 1)) problems.Add($"listed twice: {dup.Key.Item2} ({dup.Key.Item1})");
        foreach (var (kind, name) in registered.Except(rows).Order()) problems.Add($"registered but not in the inventory: {name} ({kind})");
        foreach (var (kind, name) in rows.Distinct().Except(registered).Order()) problems.Add($"in the inventory but not registered: {name} ({kind})");
        Assert.True(problems.Count == 0, "docs/privacy.md (between the inventory markers) and the program's storage differ:"
            + Environment.NewLine + string.Join(Environment.NewLine, problems)
            + Environment.NewLine + "Each resource needs a row: | `name` | table/queue/container | personal data | why | kept | export | erase |");
    }

    [Fact]
    public void Every_inventory_row_says_what_is_kept_how_long_and_what_export_and_erase_do()
    {
        var doc = Section(File.ReadAllText(InfraFiles.Path("docs", "privacy.md")));
        var bad = doc.Split('\n').Where(l => ResourceRow().IsMatch(l))
            .Where(l => l.Split('|').Skip(1).SkipLast(1).Any(cell => string.IsNullOrWhiteSpace(cell)) || l.Split('|').Length != 9)
            .ToList();
        Assert.True(bad.Count == 0, "Inventory rows need seven filled cells:" + Environment.NewLine + string.Join(Environment.NewLine, bad));
    }

    /// <summary>A resource that ends in "-poison" is still a row of its own: poison queues hold the same data for longer.</summary>
    [Fact]
    public void Rows_are_read_by_kind_and_exact_name()
    {
        var rows = InventoryRows("<!-- inventory:begin -->\n| `votes` | table | x | x | x | x | x |\n| `votes` | queue | x | x | x | x | x |\n<!-- inventory:end -->\n");
        Assert.Equal([("table", "votes"), ("queue", "votes")], rows);
    }

    private static List<(string, string)> InventoryRows(string doc)
        => Section(doc).Split('\n').Select(l => ResourceRow().Match(l)).Where(m => m.Success)
            .Select(m => (m.Groups["kind"].Value, m.Groups["name"].Value)).ToList();

    private static string Section(string doc)
    {
        doc = doc.ReplaceLineEndings("\n");
        const string begin = "<!-- inventory:begin -->", end = "<!-- inventory:end -->";
        var start = doc.IndexOf(begin, StringComparison.Ordinal);
        var stop = doc.IndexOf(end, StringComparison.Ordinal);
        Assert.True(start >= 0 && stop > start, "docs/privacy.md lacks the inventory:begin/inventory:end markers.");
        return doc[(start + begin.Length)..stop];
    }

    [GeneratedRegex(@"^\|\s*`(?<name>[a-z0-9-]+)`\s*\|\s*(?<kind>table|queue|container)\s*\|")]
    private static partial Regex ResourceRow();
}
