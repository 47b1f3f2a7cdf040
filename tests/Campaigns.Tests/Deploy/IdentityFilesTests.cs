using System.Text.Json;
using Campaigns.Platform;

namespace Campaigns.Tests.Deploy;

/// <summary>The app roles the runbook registers in Entra are exactly the roles the program's policies check.</summary>
public sealed class IdentityFilesTests
{
    [Fact]
    public void App_roles_manifest_matches_the_program_roles_with_unique_ids()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(InfraFiles.Path("infra-bicep", "identity", "app-roles.json")));
        var roles = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(Roles.All.Order(StringComparer.Ordinal), roles.Select(r => r.GetProperty("value").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(roles.Count, roles.Select(r => Guid.Parse(r.GetProperty("id").GetString()!)).Distinct().Count());
        Assert.All(roles, r => Assert.True(r.GetProperty("isEnabled").GetBoolean()));
        Assert.All(roles, r => Assert.Equal("User", Assert.Single(r.GetProperty("allowedMemberTypes").EnumerateArray()).GetString()));
    }
}
