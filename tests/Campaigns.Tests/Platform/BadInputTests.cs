using System.Net.Http.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Platform;

/// <summary>Bad input that scripts/fuzz found answered with a 500; each must be a 4xx problem.</summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task Releasing_an_entry_id_that_is_no_table_key_releases_nothing()
    {
        await using var app = await TestApp.StartAsync();
        var c = await app.CampaignAsync();
        var r = await app.As("moderator").PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims/release", new { entryIds = new[] { "../../etc/passwd", "a#b", "x?y" } });
        Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        Assert.Equal(0, (await r.Json()).GetProperty("released").GetInt32());
    }

    [Fact]
    public async Task A_body_in_an_unknown_charset_is_415()
    {
        await using var app = await TestApp.StartAsync();
        var c = await app.CampaignAsync();
        var content = new ByteArrayContent("""{"entryIds":["a"]}"""u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=ebcdic");
        var r = await app.As("moderator").PostAsync($"/api/moderation/campaigns/{c}/claims/release", content);
        await r.Problem(415, "unsupported_charset");
    }
}
