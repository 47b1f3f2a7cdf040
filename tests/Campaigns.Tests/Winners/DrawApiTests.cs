using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Winners;
using static Campaigns.Tests.Winners.WinnersKit;

namespace Campaigns.Tests.Winners;

public sealed class DrawApiTests
{
    private static object RandomVoters(int winners = 2, int alternates = 3, object? external = null)
        => new { method = "random", pool = "voters", winners, alternates, external };

    [Fact]
    public async Task A_draw_made_through_the_API_is_reproduced_by_the_verifier_and_ineligible_fans_are_never_in_the_list()
    {
        var fakes = new FakeCapabilities();
        var (app, time) = await StartAsync(fakes);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");

        var eligible = Enumerable.Range(0, 30).Select(i => $"fan-{i:D2}").ToList();
        foreach (var f in eligible) await FanAsync(app, c, f, now, country: i(f) % 2 == 0 ? "CH" : "DE");
        var ineligible = new Dictionary<string, string>
        {
            ["fan-noconsent"] = "no_consent", ["fan-noage"] = "age_not_confirmed", ["fan-young"] = "under_age",
            ["fan-fr"] = "country_not_allowed", ["fan-nocountry"] = "country_not_allowed", ["fan-blocked"] = "blocked", ["fan-staff"] = "staff",
        };
        await FanAsync(app, c, "fan-noconsent", now, consent: false);
        await FanAsync(app, c, "fan-noage", now, ageConfirmed: false);
        await FanAsync(app, c, "fan-young", now, age: 15);
        await FanAsync(app, c, "fan-fr", now, country: "FR");
        await FanAsync(app, c, "fan-nocountry", now, country: null);
        await FanAsync(app, c, "fan-blocked", now);
        await FanAsync(app, c, "fan-staff", now, staff: true);
        fakes.Blocked[c] = ["fan-blocked"];
        // Voting reports each voter once, but a repeat must not give two tickets.
        fakes.Voters[c] = [.. eligible, .. ineligible.Keys, eligible[0]];

        var configured = await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/track-day", RandomVoters());
        Assert.Equal(200, (int)configured.StatusCode);
        Assert.Equal(now.AddDays(1), (await configured.Json()).GetProperty("closeAt").GetDateTimeOffset());
        await (await app.Client.GetAsync($"/api/public/campaigns/{c}/draws/track-day/record")).Problem(404, "draw_not_found");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/track-day/run", null)).Problem(409, "no_commitment");

        var committed = await (await marketer.PostAsync($"/api/campaigns/{c}/draws/track-day/commit", null)).Json();
        var commitment = committed.GetProperty("commitment").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", commitment);
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/track-day/commit", null)).Problem(409, "already_committed");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/track-day", RandomVoters(winners: 3))).Problem(409, "draw_committed");
        var announced = await (await app.Client.GetAsync($"/api/public/campaigns/{c}/draws/track-day/record")).Json();
        Assert.Equal(commitment, announced.GetProperty("commitment").GetString());
        Assert.Equal("committed", announced.GetProperty("status").GetString());
        Assert.False(announced.TryGetProperty("seed", out var seedBefore) && seedBefore.ValueKind != JsonValueKind.Null, "the seed leaked before the draw");
        Assert.DoesNotContain(committed.GetRawText(), "seedHex", StringComparison.OrdinalIgnoreCase);

        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/track-day/run", null)).Problem(409, "window_open");
        await (await app.Client.GetAsync($"/api/public/campaigns/{c}/draws/track-day/eligible.txt")).Problem(404, "draw_not_found");

        time.Advance(TimeSpan.FromDays(1));
        var run = await marketer.PostAsync($"/api/campaigns/{c}/draws/track-day/run", null);
        Assert.Equal(200, (int)run.StatusCode);
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/track-day/run", null)).Problem(409, "already_drawn");

        var (recordBytes, listBytes) = await PublishedAsync(app, c, "track-day");
        var record = Json(recordBytes);
        Assert.Equal(DrawAlgorithm.Version, record.GetProperty("algorithm").GetString());
        Assert.Equal(commitment, record.GetProperty("commitment").GetString());
        Assert.Equal(2, record.GetProperty("winnerIds").GetArrayLength());
        Assert.Equal(3, record.GetProperty("alternateIds").GetArrayLength());
        var excluded = record.GetProperty("excluded");
        foreach (var reason in ineligible.Values.Distinct())
            Assert.Equal(ineligible.Values.Count(v => v == reason), excluded.GetProperty(reason).GetInt32());

        // The list holds exactly the eligible fans' pseudonyms; the ineligible are never drawn.
        var listed = Encoding.UTF8.GetString(listBytes).TrimEnd('\n').Split('\n').ToHashSet();
        Assert.True(eligible.Select(f => Pid(app, c, f)).ToHashSet().SetEquals(listed));
        var drawn = record.GetProperty("winnerIds").EnumerateArray().Concat(record.GetProperty("alternateIds").EnumerateArray()).Select(e => e.GetString()!).ToList();
        Assert.Equal(5, drawn.Distinct().Count());
        Assert.All(drawn, id => Assert.Contains(id, listed));
        foreach (var fan in ineligible.Keys) Assert.DoesNotContain(Pid(app, c, fan), listed);
        Assert.DoesNotContain("fan-", Encoding.UTF8.GetString(recordBytes) + Encoding.UTF8.GetString(listBytes));

        // The verifier's code and its program both reproduce the draw.
        var outcome = DrawVerifier.Verify(recordBytes, listBytes);
        Assert.True(outcome.ExitCode == DrawVerifier.Match, string.Join("\n", outcome.Problems));
        var dir = Directory.CreateTempSubdirectory("draw-");
        var recordPath = Path.Combine(dir.FullName, "record.json");
        var listPath = Path.Combine(dir.FullName, "eligible.txt");
        await File.WriteAllBytesAsync(recordPath, recordBytes);
        await File.WriteAllBytesAsync(listPath, listBytes);
        var ok = RunVerifier(recordPath, listPath);
        Assert.True(ok.Exit == 0, ok.Out + ok.Err);
        Assert.Contains("OK: the draw reproduces", ok.Out);

        // Tampering with one id in the list, the seed, the commitment, the algorithm version or the winners is named.
        var lines = Encoding.UTF8.GetString(listBytes).Split('\n');
        var victim = Array.FindIndex(lines, l => !drawn.Contains(l) && l.Length == 64);
        lines[victim] = lines[victim][..63] + (lines[victim][63] == '0' ? '1' : '0');
        await Expect(Encoding.UTF8.GetBytes(string.Join('\n', lines)), recordBytes, "list:");
        await Expect(listBytes, Edit(recordBytes, r => r["seed"] = Flip(r["seed"]!.GetValue<string>())), "seed/commitment:", "winners:");
        await Expect(listBytes, Edit(recordBytes, r => r["commitment"] = Flip(r["commitment"]!.GetValue<string>())), "seed/commitment:");
        await Expect(listBytes, Edit(recordBytes, r => r["algorithm"] = "campaigns-draw/2"), "algorithm version:");
        await Expect(listBytes, Edit(recordBytes, r => r["committedAt"] = r["closeAt"]!.DeepClone()), "commitment timing:");
        await Expect(listBytes, Edit(recordBytes, r =>
        {
            var w = r["winnerIds"]!.AsArray();
            var a = r["alternateIds"]!.AsArray();
            (w[0], a[0]) = (a[0]!.DeepClone(), w[0]!.DeepClone());
        }), "winners: position 1", "alternates: position 1");

        // Malformed or truncated input: a clear message and exit 2 (or 1 when it is a changed file), never a stack trace.
        await File.WriteAllBytesAsync(recordPath, recordBytes[..(recordBytes.Length / 2)]);
        var truncated = RunVerifier(recordPath, listPath);
        Assert.Equal(2, truncated.Exit);
        Assert.Contains("not valid JSON", truncated.Err);
        Assert.DoesNotContain("   at ", truncated.Out + truncated.Err);
        await File.WriteAllBytesAsync(recordPath, recordBytes);
        await File.WriteAllBytesAsync(listPath, listBytes[..(listBytes.Length - 10)]);
        var cut = RunVerifier(recordPath, listPath);
        Assert.Equal(1, cut.Exit);
        Assert.Contains("list:", cut.Err);
        Assert.DoesNotContain("   at ", cut.Out + cut.Err);
        var missing = RunVerifier(Path.Combine(dir.FullName, "nope.json"), listPath);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("no such file", missing.Err);
        await File.WriteAllTextAsync(recordPath, """{"format":"campaigns-draw-record/1"}""");
        var partial = RunVerifier(recordPath, listPath);
        Assert.Equal(2, partial.Exit);
        Assert.Contains("missing field", partial.Err);
        dir.Delete(true);

        static int i(string fan) => int.Parse(fan[4..]);
        static string Flip(string hex) => (hex[0] == 'a' ? 'b' : 'a') + hex[1..];
        async Task Expect(byte[] list, byte[] rec, params string[] named)
        {
            var o = DrawVerifier.Verify(rec, list);
            Assert.Equal(DrawVerifier.Differs, o.ExitCode);
            foreach (var n in named) Assert.Contains(o.Problems, p => p.StartsWith(n, StringComparison.Ordinal));
            await File.WriteAllBytesAsync(recordPath, rec);
            await File.WriteAllBytesAsync(listPath, list);
            var p = RunVerifier(recordPath, listPath);
            Assert.Equal(1, p.Exit);
            foreach (var n in named) Assert.Contains("MISMATCH " + n, p.Err);
        }
    }

    internal static byte[] Edit(byte[] record, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(record)!.AsObject();
        edit(node);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    [Fact]
    public async Task Bad_requests_get_4xx_problems_with_stable_codes()
    {
        var fakes = new FakeCapabilities();
        var (app, time) = await StartAsync(fakes);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");
        var admin = app.As("owner");

        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", RandomVoters(winners: 0))).Problem(400, "validation_failed");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", new { method = "random", winners = 1 })).Problem(400, "validation_failed");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", new { method = "hybrid", winners = 1, roundId = "r", juryWeight = 1.5 })).Problem(400, "validation_failed");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/Bad_Id", RandomVoters())).Problem(400, "validation_failed");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", new { method = "lottery", winners = 1 })).Problem(400, "malformed_json");
        await (await marketer.PutAsJsonAsync("/api/campaigns/no-such-campaign/draws/d1", RandomVoters())).Problem(404, "campaign_not_found");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", new { method = "random", pool = "entrants", winners = 1 })).Problem(400, "close_at_required");
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/d1", new { method = "random", pool = "voters", winners = 1, closeAt = now.AddMinutes(-1) })).Problem(409, "window_closed");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/nope/run", null)).Problem(404, "draw_not_found");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/..%2Fx/commit", null)).Problem(404, "draw_not_found");
        await (await app.Client.GetAsync($"/api/public/campaigns/{c}/draws/nope/winners")).Problem(404, "draw_not_found");

        // Zero eligible: nobody voted.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/empty", RandomVoters())).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/empty/commit", null)).StatusCode);

        // An external randomness round: the draw waits for its value, which only an admin enters, once.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/ext", RandomVoters(2, 8, new { source = "drand-quicknet", round = 123456 }))).StatusCode);
        var value = new string('a', 64);
        await (await admin.PutAsJsonAsync($"/api/campaigns/{c}/draws/ext/external", new { value })).Problem(409, "no_commitment");
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/ext/commit", null)).StatusCode);
        await (await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/ext/external", new { value })).Problem(403, "forbidden");
        await (await admin.PutAsJsonAsync($"/api/campaigns/{c}/draws/ext/external", new { value = "not-hex" })).Problem(400, "invalid_external_value");
        await (await admin.PutAsJsonAsync($"/api/campaigns/{c}/draws/empty/external", new { value })).Problem(409, "no_external_round");

        time.Advance(TimeSpan.FromDays(2));
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/empty/commit", null)).Problem(409, "already_committed");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/empty/run", null)).Problem(422, "no_eligible_entrants");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/ext/run", null)).Problem(409, "external_value_missing");

        // Committing after the close proves nothing and is refused.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/late", new { method = "random", pool = "voters", winners = 1, closeAt = time.GetUtcNow().AddMinutes(5) })).StatusCode);
        time.Advance(TimeSpan.FromMinutes(6));
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/late/commit", null)).Problem(409, "commit_after_close");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/late/run", null)).Problem(409, "no_commitment");

        // With a voter the external draw runs, mixing in the value the admin entered; the verifier reproduces it.
        // Ten voters, all drawn: another external value reorders them (all but certainly: 1 in 10!).
        fakes.Voters[c] = [.. Enumerable.Range(0, 10).Select(i => "fan-x" + i)];
        foreach (var f in fakes.Voters[c]) await FanAsync(app, c, f, now);
        Assert.Equal(200, (int)(await admin.PutAsJsonAsync($"/api/campaigns/{c}/draws/ext/external", new { value })).StatusCode);
        await (await admin.PutAsJsonAsync($"/api/campaigns/{c}/draws/ext/external", new { value = new string('b', 64) })).Problem(409, "external_already_entered");
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/ext/run", null)).StatusCode);
        var (record, list) = await PublishedAsync(app, c, "ext");
        Assert.Equal(value, Json(record).GetProperty("external").GetProperty("value").GetString());
        Assert.Equal(DrawVerifier.Match, DrawVerifier.Verify(record, list).ExitCode);
        Assert.Equal(DrawVerifier.Differs, DrawVerifier.Verify(Edit(record, r => r["external"]!["value"] = new string('c', 64)), list).ExitCode);

        // Roles: winners' contact data is for owners and marketers (audited), not moderators; fans cannot run draws.
        await (await app.As("moderator").GetAsync($"/api/campaigns/{c}/draws/ext/winners")).Problem(403, "forbidden");
        await (await app.As("fan", "fan-x0").PostAsync($"/api/campaigns/{c}/draws/ext/run", null)).Problem(403, "forbidden");
        await (await app.Client.PostAsync($"/api/campaigns/{c}/draws/ext/run", null)).Problem(401, "unauthorized");
    }

    [Fact]
    public async Task A_rule_that_needs_a_capability_this_deployment_lacks_is_a_clear_424()
    {
        var fakes = new FakeCapabilities();
        // Voting runs, Moderation (the blocklist) does not.
        var (app, time) = await StartAsync(fakes, register: b =>
        {
            fakes.Register(b, blocklist: false, entries: false, jury: false);
            // This deployment has no moderation or submissions capability registered.
            b.Services.RemoveAll<global::Campaigns.Platform.IFanBlocklist>();
            b.Services.RemoveAll<global::Campaigns.Platform.IEntryDirectory>();
        });
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");
        fakes.Voters[c] = ["fan-a"];
        await FanAsync(app, c, "fan-a", now);
        foreach (var (draw, body) in new (string, object)[]
        {
            ("blocked", RandomVoters(1, 0)),
            ("entrants", new { method = "random", pool = "entrants", winners = 1, closeAt = now.AddDays(1) }),
            ("jury", new { method = "jury", roundId = "final", winners = 1, closeAt = now.AddDays(1) }),
            ("unblocked", new { method = "random", pool = "voters", winners = 1, filters = new { notBlocked = false } }),
        })
        {
            Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/{draw}", body)).StatusCode);
            Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/{draw}/commit", null)).StatusCode);
        }
        time.Advance(TimeSpan.FromDays(2));
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/blocked/run", null)).Problem(424, "moderation_unavailable");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/entrants/run", null)).Problem(424, "submissions_unavailable");
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/jury/run", null)).Problem(424, "submissions_unavailable");
        // Without the blocklist filter the draw runs.
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/unblocked/run", null)).StatusCode);
    }
}

public sealed class DrawSampleTests
{
    /// <summary>samples/draws is the current format (rules covered by the commitment); samples/draws/v1 a record of format 1, still verified.</summary>
    [Theory]
    [InlineData("", DrawRecord.FormatVersion)]
    [InlineData("v1", DrawRecord.FormatVersion1)]
    public void The_committed_sample_records_and_lists_verify_with_the_verifier_program(string folder, string format)
    {
        var dir = Path.Combine(Azurite.RepoRoot(), "samples", "draws", folder);
        Assert.Equal(format, WinnersKit.Json(File.ReadAllBytes(Path.Combine(dir, "record.json"))).GetProperty("format").GetString());
        var (exit, stdout, stderr) = WinnersKit.RunVerifier(Path.Combine(dir, "record.json"), Path.Combine(dir, "eligible.txt"));
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("OK: the draw reproduces", stdout);
    }
}
