using Campaigns.Hosting;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns;

/// <summary>Command-line modes of the one program: serve (default), mint a dev token, write function.json files, list storage resources, print the powers table, assemble the deploy zip.</summary>
public static class Cli
{
    public static async Task<int> RunAsync(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "token":
                return Token(args.Skip(1).ToArray());
            case "emit-functions":
                if (args.Length < 2) { Console.Error.WriteLine("usage: emit-functions <dir>"); return 2; }
                var app = CampaignsApp.Build([]);
                app.Services.GetRequiredService<FunctionCatalog>().WriteFunctionJson(args[1]);
                Console.WriteLine($"wrote {app.Services.GetRequiredService<FunctionCatalog>().Functions.Count} function.json files to {args[1]}");
                return 0;
            case "list-resources":
                return ListResources();
            case "powers-table":
                Console.Write(Workspaces.Powers.Markdown()); // docs/access.md renders this table (a test keeps them equal)
                return 0;
            case "package":
                return Package(args.Skip(1).ToArray());
            default:
                await CampaignsApp.Build(args).RunAsync();
                return 0;
        }
    }

    /// <summary>Prints the tables, queues and containers the app needs as JSON, the shape of infra-bicep/storage-resources.json.</summary>
    private static int ListResources()
    {
        Console.WriteLine(StorageManifest.FromServices(CampaignsApp.Build([]).Services).ToJson());
        return 0;
    }

    /// <summary>Zips an app folder in the Functions host's layout and checks the result (scripts/package).</summary>
    private static int Package(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine("usage: package <app-dir> <zip> [--self-contained]"); return 2; }
        var catalog = CampaignsApp.Build([]).Services.GetRequiredService<FunctionCatalog>();
        Deploy.DeployPackage.Create(args[0], catalog, args[1]);
        var problems = Deploy.DeployPackage.Check(args[1], catalog, requireSelfContained: args.Contains("--self-contained"));
        foreach (var p in problems) Console.Error.WriteLine($"package: {p}");
        if (problems.Count > 0) return 1;
        Console.WriteLine($"wrote {args[1]}: host.json, {catalog.Functions.Count} function(s), handler and native libraries");
        return 0;
    }

    private static int Token(string[] args)
    {
        if (args.Length < 1 || !Roles.All.Contains(args[0]))
        {
            Console.Error.WriteLine($"usage: token <{string.Join('|', Roles.All)}> [subject] [--hours N] [--member WORKSPACE:ROLE]");
            return 2;
        }
        var app = CampaignsApp.Build([]);
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var subject = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : $"{args[0]}-1";
        var hoursIndex = Array.IndexOf(args, "--hours");
        var hours = hoursIndex >= 0 && hoursIndex + 1 < args.Length ? double.Parse(args[hoursIndex + 1], System.Globalization.CultureInfo.InvariantCulture) : 8;
        var memberIndex = Array.IndexOf(args, "--member");
        if (memberIndex >= 0)
        {
            // Local convenience for scripts and benchmarks: make the subject a member (workspace created if absent).
            var parts = memberIndex + 1 < args.Length ? args[memberIndex + 1].Split(':') : [];
            if (parts.Length != 2 || !Enum.TryParse<Workspaces.WorkspaceRole>(parts[1], ignoreCase: true, out var role))
            {
                Console.Error.WriteLine("--member takes WORKSPACE:ROLE, e.g. bench:marketer");
                return 2;
            }
            var store = app.Services.GetRequiredService<Workspaces.WorkspaceStore>();
            var now = TimeProvider.System.GetUtcNow();
            store.CreateAsync(new Workspaces.Workspace(parts[0], parts[0], now, "scripts/token"), null,
                new Workspaces.WorkspaceAuditEntry(parts[0], now, "scripts/token", "workspace.created", null, null), default).GetAwaiter().GetResult();
            store.PutMemberAsync(new Workspaces.Membership(parts[0], subject, role, null, now, "scripts/token", now),
                new Workspaces.WorkspaceAuditEntry(parts[0], now, "scripts/token", "member.added", subject, parts[1]), default).GetAwaiter().GetResult();
        }
        Console.WriteLine(DevTokens.Mint(auth, args[0], subject, TimeSpan.FromHours(hours), TimeProvider.System.GetUtcNow()));
        return 0;
    }
}
