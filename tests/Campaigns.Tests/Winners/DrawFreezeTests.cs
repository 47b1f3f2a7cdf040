using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Campaigns.Tests.Infrastructure;
using Campaigns.Winners;
using static Campaigns.Tests.Winners.WinnersKit;

namespace Campaigns.Tests.Winners;

/// <summary>What fans rely on in a draw freezes at the commitment: its rules and the eligibility it applies.</summary>
public sealed class DrawFreezeTests
{
    [Fact]
    public async Task Eligibility_freezes_at_commit_inside_the_committed_record_and_the_verifier_refuses_tampered_rules()
    {
        var fakes = new FakeCapabilities();
        var (app, time) = await StartAsync(fakes);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now); // 18+, CH and DE
        var marketer = app.As("marketer");
        var swiss = Enumerable.Range(0, 5).Select(i => $"fan-ch{i}").ToList();
        foreach (var f in swiss) await FanAsync(app, c, f, now, country: "CH");
        foreach (var f in new[] { "fan-fr0", "fan-fr1", "fan-fr2" }) await FanAsync(app, c, f, now, country: "FR");
        await FanAsync(app, c, "fan-young", now, country: "CH", age: 16);
        fakes.Voters[c] = [.. swiss, "fan-fr0", "fan-fr1", "fan-fr2", "fan-young"];

        var rules = new { method = "random", pool = "voters", winners = 2, alternates = 1 };
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/prize", rules)).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/commit", null)).StatusCode);

        // The commitment-only record already carries the eligibility it commits to, and the hash of the rules.
        var announced = await (await app.Client.GetAsync($"/api/public/campaigns/{c}/draws/prize/record")).Json();
        Assert.Equal(18, announced.GetProperty("filters").GetProperty("minAge").GetInt32());
        Assert.Equal(["CH", "DE"], announced.GetProperty("filters").GetProperty("countries").EnumerateArray().Select(x => x.GetString()));
        Assert.Matches("^[0-9a-f]{64}$", announced.GetProperty("rulesSha256").GetString()!);

        // Re-sending the same rules is harmless; anything different is refused.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/prize", rules)).StatusCode);
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/prize", new { method = "random", pool = "voters", winners = 2, alternates = 1, filters = new { countryAllowed = false } }))
            .Problem(409, "draw_committed");

        // Voting has opened, so the campaign's eligibility is frozen too; the draw would not follow a change anyway.
        await (await EditEligibilityAsync(app, c, now, 13, ["CH", "DE", "FR"])).Problem(409, "eligibility_frozen");
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/run", null)).StatusCode);
        var (recordBytes, listBytes) = await PublishedAsync(app, c, "prize");
        var record = Json(recordBytes);
        Assert.Equal(announced.GetProperty("rulesSha256").GetString(), record.GetProperty("rulesSha256").GetString());
        Assert.Equal(["CH", "DE"], record.GetProperty("filters").GetProperty("countries").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(3, record.GetProperty("excluded").GetProperty("country_not_allowed").GetInt32());
        Assert.Equal(1, record.GetProperty("excluded").GetProperty("under_age").GetInt32());
        var listed = Encoding.UTF8.GetString(listBytes).TrimEnd('\n').Split('\n').ToHashSet();
        Assert.True(swiss.Select(f => Pid(app, c, f)).ToHashSet().SetEquals(listed));

        // The verifier checks the rules against the commitment: untampered passes, a changed rule is named.
        Assert.Equal(DrawVerifier.Match, DrawVerifier.Verify(recordBytes, listBytes).ExitCode);
        var dir = Directory.CreateTempSubdirectory("draw-rules-");
        var recordPath = Path.Combine(dir.FullName, "record.json");
        var listPath = Path.Combine(dir.FullName, "eligible.txt");
        await File.WriteAllBytesAsync(listPath, listBytes);
        await File.WriteAllBytesAsync(recordPath, recordBytes);
        var ok = RunVerifier(recordPath, listPath);
        Assert.True(ok.Exit == 0, ok.Out + ok.Err);

        var widened = DrawApiTests.Edit(recordBytes, r => r["filters"]!["countries"] = new JsonArray("CH", "DE", "FR"));
        var outcome = DrawVerifier.Verify(widened, listBytes);
        Assert.Equal(DrawVerifier.Differs, outcome.ExitCode);
        Assert.Contains(outcome.Problems, p => p.StartsWith("rules:", StringComparison.Ordinal));
        await File.WriteAllBytesAsync(recordPath, widened);
        var bad = RunVerifier(recordPath, listPath);
        Assert.Equal(1, bad.Exit);
        Assert.Contains("MISMATCH rules:", bad.Err);

        // Changing the rules and their hash together breaks the commitment instead.
        var rewritten = DrawApiTests.Edit(recordBytes, r =>
        {
            r["filters"]!["minAge"] = 13;
            var tampered = JsonSerializer.Deserialize<JsonElement>(r.ToJsonString());
            r["rulesSha256"] = DrawAlgorithm.Sha256Hex(Encoding.UTF8.GetBytes(DrawRules.TextOf(tampered)!));
        });
        var both = DrawVerifier.Verify(rewritten, listBytes);
        Assert.Equal(DrawVerifier.Differs, both.ExitCode);
        Assert.Contains(both.Problems, p => p.StartsWith("seed/commitment:", StringComparison.Ordinal));
        Assert.DoesNotContain(both.Problems, p => p.StartsWith("rules:", StringComparison.Ordinal));
        dir.Delete(true);
    }
}
