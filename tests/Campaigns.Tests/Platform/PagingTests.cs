using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.Platform;

/// <summary>Staff lists come in pages that together hold every row once; a forged token never reaches past the list (the query keeps its partition filter).</summary>
public sealed class PagingTests
{
    private static async Task<List<JsonElement>> AllPages(HttpClient client, string url, int pageSize)
    {
        var all = new List<JsonElement>();
        string? continuation = null;
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages < 20, "the continuation never ended");
            var query = $"{url}?pageSize={pageSize}" + (continuation is null ? "" : "&continuation=" + Uri.EscapeDataString(continuation));
            var page = await (await client.GetAsync(query)).Json();
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(items.Count <= pageSize, $"a page of {items.Count} for pageSize {pageSize}");
            all.AddRange(items);
            continuation = page.TryGetProperty("continuation", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            if (continuation is null) return all;
        }
    }

    [Fact]
    public async Task Blocks_and_the_moderation_audit_page_through_every_row_exactly_once()
    {
        await using var app = await TestApp.StartAsync();
        var c = await app.CampaignAsync();
        var mod = app.As("moderator");
        var fans = Enumerable.Range(0, 5).Select(i => $"fan-{i}").ToList();
        foreach (var f in fans)
            Assert.Equal(200, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/fans/{f}/block", new { reason = "test" })).StatusCode);

        var blocks = await AllPages(mod, $"/api/moderation/campaigns/{c}/blocks", 2);
        Assert.Equal(fans, blocks.Select(b => b.GetProperty("fanId").GetString()).Order(StringComparer.Ordinal));

        var audit = await AllPages(mod, $"/api/moderation/campaigns/{c}/audit", 2);
        Assert.Equal(5, audit.Count);
        Assert.Equal(5, audit.Select(a => a.GetProperty("subject").GetString()).Distinct().Count());

        // The first page of two really is one of three.
        var first = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/blocks?pageSize=2")).Json();
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.String, first.GetProperty("continuation").ValueKind);
    }

    [Theory]
    [InlineData("not a token")]
    [InlineData("1!x 2!y")]
    public async Task A_forged_continuation_is_a_400_or_a_position_inside_the_same_list_never_a_500(string token)
    {
        await using var app = await TestApp.StartAsync();
        var c = await app.CampaignAsync();
        var response = await app.As("moderator").GetAsync($"/api/moderation/campaigns/{c}/blocks?continuation={Uri.EscapeDataString(token)}");
        Assert.NotEqual(500, (int)response.StatusCode);
        if ((int)response.StatusCode != 200) await response.Problem(400, "invalid_continuation");
    }
}
