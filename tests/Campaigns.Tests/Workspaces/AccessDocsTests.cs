using Campaigns.Tests.Deploy;
using Campaigns.Workspaces;

namespace Campaigns.Tests.Workspaces;

/// <summary>docs/access.md shows the powers table the check enforces, rendered from the same list.</summary>
public sealed class AccessDocsTests
{
    [Fact]
    public void The_powers_table_in_the_docs_is_the_one_the_code_enforces()
    {
        var doc = File.ReadAllText(InfraFiles.Path("docs", "access.md")).ReplaceLineEndings("\n");
        const string begin = "<!-- powers:begin -->\n", end = "<!-- powers:end -->";
        var start = doc.IndexOf(begin, StringComparison.Ordinal);
        var stop = doc.IndexOf(end, StringComparison.Ordinal);
        Assert.True(start >= 0 && stop > start, "docs/access.md lacks the powers:begin/powers:end markers.");
        var rendered = doc[(start + begin.Length)..stop];
        Assert.True(rendered == Powers.Markdown(),
            "docs/access.md's powers table differs from Workspaces/Powers.cs. Replace it with the output of " +
            "`dotnet functions/Campaigns.Functions/bin/Debug/net10.0/Campaigns.Functions.dll powers-table`:\n" + Powers.Markdown());
        Assert.All(Powers.All, p => Assert.Contains($"`{p.Name}`", rendered));
    }
}
