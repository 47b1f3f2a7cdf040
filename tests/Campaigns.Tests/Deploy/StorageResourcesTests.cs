using System.Text.Json;
using Campaigns.Platform;

namespace Campaigns.Tests.Deploy;

/// <summary>The Bicep creates every table, queue and container the program uses (Storage__CreateResources is false in Azure).</summary>
public sealed class StorageResourcesTests
{
    [Fact]
    public void Infrastructure_creates_every_table_queue_and_container_the_program_registers()
    {
        var app = StorageManifest.FromServices(CampaignsApp.Build(["--LocalSettingsPath=/nonexistent/local.settings.json"]).Services);
        using var doc = JsonDocument.Parse(File.ReadAllText(InfraFiles.Path("infra-bicep", "storage-resources.json")));
        string[] Bicep(string kind) => doc.RootElement.GetProperty(kind).EnumerateArray().Select(e => e.GetString()!).ToArray();

        var problems = new List<string>();
        foreach (var (kind, inApp) in new[] { ("tables", app.Tables), ("queues", app.Queues), ("containers", app.Containers) })
        {
            var inBicep = Bicep(kind);
            var missing = inApp.Except(inBicep).ToList();
            var extra = inBicep.Except(inApp).ToList();
            if (missing.Count > 0) problems.Add($"{kind} the program uses but infra-bicep/storage-resources.json lacks: {string.Join(", ", missing)}");
            if (extra.Count > 0) problems.Add($"{kind} in infra-bicep/storage-resources.json that the program no longer uses: {string.Join(", ", extra)}");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems)
            + $"{Environment.NewLine}Regenerate: dotnet functions/Campaigns.Functions/bin/Debug/net10.0/Campaigns.Functions.dll list-resources > infra-bicep/storage-resources.json");
    }

    [Fact]
    public void Main_bicep_creates_tables_in_cosmos_and_queues_and_containers_in_storage_from_the_manifest()
    {
        var main = File.ReadAllText(InfraFiles.Path("infra-bicep", "main.bicep"));
        Assert.Contains("loadJsonContent('storage-resources.json')", main);
        Assert.Contains("tables: storageResources.tables", main);
        Assert.Contains("queues: storageResources.queues", main);
        Assert.Contains("containers: storageResources.containers", main);
    }
}
