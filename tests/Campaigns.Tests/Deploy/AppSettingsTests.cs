using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Tests.Deploy;

/// <summary>The Function App's settings in main.bicep match local.settings.sample.json one for one, and start the program.</summary>
public sealed class AppSettingsTests
{
    [Fact]
    public void Bicep_app_settings_and_local_only_settings_cover_local_settings_sample_one_for_one()
    {
        var bicep = InfraFiles.BicepAppSettings().Keys.ToHashSet(StringComparer.Ordinal);
        var localOnly = InfraFiles.LocalOnlySettings().Keys.ToHashSet(StringComparer.Ordinal);
        var sample = InfraFiles.SampleValues().Keys.ToHashSet(StringComparer.Ordinal);

        var missingInBicep = sample.Except(bicep).Except(localOnly).Order(StringComparer.Ordinal).ToList();
        var missingInSample = bicep.Union(localOnly).Except(sample).Order(StringComparer.Ordinal).ToList();
        var both = bicep.Intersect(localOnly).Order(StringComparer.Ordinal).ToList();

        var problems = new List<string>();
        if (missingInBicep.Count > 0)
            problems.Add("In local.settings.sample.json but not in infra-bicep/main.bicep `var appSettings` (nor in infra-bicep/local-only-settings.json): "
                + string.Join(", ", missingInBicep));
        if (missingInSample.Count > 0)
            problems.Add("In infra-bicep (main.bicep appSettings or local-only-settings.json) but not in local.settings.sample.json: "
                + string.Join(", ", missingInSample));
        if (both.Count > 0)
            problems.Add("Both set in Azure and declared local-only: " + string.Join(", ", both));
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Every_local_only_setting_says_why()
    {
        foreach (var (name, reason) in InfraFiles.LocalOnlySettings())
            Assert.True(reason.Length > 20, $"infra-bicep/local-only-settings.json: give the reason '{name}' is not set in Azure.");
    }

    [Fact]
    public void Azure_settings_are_identity_based_and_keep_secrets_in_key_vault()
    {
        var s = InfraFiles.BicepAppSettings();
        Assert.Equal("managedidentity", InfraFiles.Literal(s["AzureWebJobsStorage__credential"]));
        Assert.Contains("clientId", s["AzureWebJobsStorage__clientId"]);
        Assert.DoesNotContain("AzureWebJobsStorage", s.Keys);
        Assert.Equal("false", InfraFiles.Literal(s["Storage__CreateResources"]));
        Assert.Equal("azuremonitor", InfraFiles.Literal(s["Telemetry__Exporter"]));
        Assert.Contains("Authorization=AAD", s["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        // Anything that looks like a secret is a Key Vault reference, never a literal or a parameter.
        foreach (var (name, value) in s.Where(kv => kv.Key.Contains("Key", StringComparison.OrdinalIgnoreCase) && !kv.Key.StartsWith("AzureWebJobs", StringComparison.Ordinal)
                     || kv.Key.Contains("Secret", StringComparison.OrdinalIgnoreCase) || kv.Key.StartsWith("Auth__Author", StringComparison.Ordinal)))
            Assert.True(value.StartsWith("keyVaultRef(", StringComparison.Ordinal), $"{name} must be a Key Vault reference: keyVaultRef(keyVaultName, '<secret>').");
    }

    [Fact]
    public void The_program_accepts_the_azure_settings_at_start()
    {
        // Literal values as Bicep sets them; expressions (endpoints, client id, Key Vault references) as the kind of value they resolve to.
        var args = InfraFiles.BicepAppSettings().Select(kv => $"--{kv.Key.Replace("__", ":", StringComparison.Ordinal)}={Resolved(kv.Key, kv.Value)}")
            .Append("--LocalSettingsPath=/nonexistent/local.settings.json").ToArray();
        var app = CampaignsApp.Build(args);

        var storage = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        Assert.True(string.IsNullOrEmpty(storage.ConnectionString));
        Assert.False(storage.CreateResources);
        Assert.Equal("managedidentity", storage.Credential);
        Assert.NotNull(app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Authority);
        Assert.False(app.Services.GetRequiredService<IOptions<HostingOptions>>().Value.Standalone);
    }

    private static string Resolved(string name, string bicepValue) => InfraFiles.Literal(bicepValue) ?? name switch
    {
        "AzureWebJobsStorage__clientId" => "00000000-0000-0000-0000-000000000001",
        "APPLICATIONINSIGHTS_CONNECTION_STRING" => "InstrumentationKey=00000000-0000-0000-0000-000000000002;IngestionEndpoint=https://example.invalid/",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" => "ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD",
        "Demo__Seed" => "false",
        "Auth__StaffAuthority" or "Auth__StaffAudience" or "Auth__StaffIssuer" => "", // optional parameters, empty by default
        _ when name.EndsWith("Uri", StringComparison.Ordinal) || name == "Auth__Authority" => "https://example.invalid/",
        _ => "value-from-key-vault-0123456789abcdef",
    };
}
