using System.Text;
using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Campaigns.Winners;
using static Campaigns.Tests.Winners.WinnersKit;

namespace Campaigns.Tests.Winners;

public sealed class WinnerWorkflowTests
{
    [Fact]
    public async Task Alternates_are_promoted_in_order_with_a_logged_reason_winners_are_notified_and_the_public_sees_consented_names_only()
    {
        var fakes = new FakeCapabilities();
        var webhook = new WebhookCapture();
        var (app, time) = await StartAsync(fakes, webhook);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");
        var fans = Enumerable.Range(0, 12).Select(i => $"fan-{i:D2}").ToList();
        for (var i = 0; i < fans.Count; i++) await FanAsync(app, c, fans[i], now, showName: i % 2 == 0, name: $"Fan Number {i}");
        fakes.Voters[c] = fans;

        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/prize", new { method = "random", pool = "voters", winners = 2, alternates = 3 })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/commit", null)).StatusCode);
        await (await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/winners/1/promote", new StringContent("""{"reason":"declined"}""", System.Text.Encoding.UTF8, "application/json"))).Problem(409, "not_drawn");
        time.Advance(TimeSpan.FromDays(1));
        var record = await (await marketer.PostAsync($"/api/campaigns/{c}/draws/prize/run", null)).Json();
        var winners = record.GetProperty("winnerIds").EnumerateArray().Select(e => e.GetString()!).ToList();
        var alternates = record.GetProperty("alternateIds").EnumerateArray().Select(e => e.GetString()!).ToList();

        // Webhook: one signed delivery per winner.
        var selected = await Deliveries(webhook, 2);
        Assert.Equal(winners.ToHashSet(), selected.Select(d => d.GetProperty("pid").GetString()!).ToHashSet());
        Assert.All(selected, d => Assert.Equal(WinnerRules.SelectedEvent, d.GetProperty("event").GetString()));

        // Promotions take the alternates strictly in order; "no_response" only after the claim period.
        await (await Promote(marketer, c, 1, "sold_out")).Problem(400, "invalid_reason");
        await (await Promote(marketer, c, 9, "declined")).Problem(404, "winner_not_found");
        Assert.Equal(200, (int)(await Promote(marketer, c, 1, "declined", "Prefers not to travel")).StatusCode);
        await (await Promote(marketer, c, 2, "no_response")).Problem(409, "claim_period_open");
        time.Advance(TimeSpan.FromDays(14));
        Assert.Equal(200, (int)(await Promote(marketer, c, 2, "no_response")).StatusCode);
        var view = await (await marketer.GetAsync($"/api/campaigns/{c}/draws/prize")).Json();
        Assert.Equal(alternates[0], Slot(view, 1).GetProperty("pid").GetString());
        Assert.Equal(alternates[1], Slot(view, 2).GetProperty("pid").GetString());
        Assert.Equal(1, view.GetProperty("alternatesLeft").GetInt32());
        Assert.DoesNotContain("fan-", view.GetRawText());
        Assert.Equal("Prefers not to travel", view.GetProperty("events")[0].GetProperty("note").GetString());

        // Marketer workflow: forward only; a claimed winner is not replaced.
        Assert.Equal(200, (int)(await Status(marketer, c, 2, "contacted")).StatusCode);
        Assert.Equal(200, (int)(await Status(marketer, c, 2, "claimed")).StatusCode);
        await (await Status(marketer, c, 2, "contacted")).Problem(409, "status_backwards");
        await (await Promote(marketer, c, 2, "ineligible")).Problem(409, "winner_claimed");
        Assert.Equal(200, (int)(await Status(marketer, c, 2, "fulfilled")).StatusCode);
        Assert.Equal(200, (int)(await Promote(marketer, c, 1, "ineligible", "Lives outside the allowed countries")).StatusCode);
        await (await Promote(marketer, c, 1, "declined")).Problem(409, "no_alternates_left");

        var promoted = await Deliveries(webhook, 5);
        Assert.Equal(3, promoted.Count(d => d.GetProperty("event").GetString() == WinnerRules.PromotedEvent));
        foreach (var (request, body) in webhook.Received)
        {
            // Standard Webhooks: a timestamp inside the signed text, so a captured delivery cannot be replayed later.
            Assert.True(request.Headers.TryGetValues("webhook-timestamp", out var ts), "no webhook-timestamp header");
            var id = request.Headers.GetValues("webhook-id").Single();
            var stamp = long.Parse(ts!.Single());
            Assert.InRange(stamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds());
            Assert.Equal(Episodes.WebhookSafetyApiTests.Sign(webhook.Secret!, id, stamp, Encoding.UTF8.GetString(body)), request.Headers.GetValues("webhook-signature").Single());
            Assert.False(string.IsNullOrEmpty(id));
        }

        // The public record logs each promotion; the verifier checks they followed the order.
        var (recordBytes, listBytes) = await PublishedAsync(app, c, "prize");
        var events = Json(recordBytes).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["declined", "no_response", "ineligible"], events.Select(e => e.GetProperty("reason").GetString()));
        Assert.Equal([1, 2, 3], events.Select(e => e.GetProperty("alternateIndex").GetInt32()));
        Assert.Equal(alternates, events.Select(e => e.GetProperty("promotedId").GetString()));
        Assert.All(events, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("note").ValueKind)); // staff notes stay private
        var outcome = DrawVerifier.Verify(recordBytes, listBytes);
        Assert.True(outcome.ExitCode == DrawVerifier.Match, string.Join("\n", outcome.Problems));
        var outOfOrder = DrawApiTests.Edit(recordBytes, r =>
        {
            var e = r["events"]!.AsArray();
            (e[0]!["promotedId"], e[1]!["promotedId"]) = (e[1]!["promotedId"]!.DeepClone(), e[0]!["promotedId"]!.DeepClone());
        });
        Assert.Contains(DrawVerifier.Verify(outOfOrder, listBytes).Problems, p => p.StartsWith("promotions:"));

        // Public winners: display names only with consent; admins see who they are.
        var holder1 = fans.Single(f => Pid(app, c, f) == alternates[2]);
        var holder2 = fans.Single(f => Pid(app, c, f) == alternates[1]);
        var pub = (await (await app.Client.GetAsync($"/api/public/campaigns/{c}/draws/prize/winners")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, pub.Count);
        foreach (var (item, fan) in new[] { (pub[0], holder1), (pub[1], holder2) })
        {
            var consented = int.Parse(fan[4..]) % 2 == 0;
            var name = item.GetProperty("displayName");
            if (consented) Assert.Equal($"Fan Number {int.Parse(fan[4..])}", name.GetString());
            else Assert.Equal(JsonValueKind.Null, name.ValueKind);
            Assert.DoesNotContain("fan-", item.GetRawText());
        }
        // A marketer reads the winners' contact data for fulfilment; the read is in the workspace's audit trail.
        var reader = "fulfilment-" + Guid.NewGuid().ToString("N")[..8];
        var personal = (await (await app.As("marketer", reader).GetAsync($"/api/campaigns/{c}/draws/prize/winners")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([holder1, holder2], personal.Select(p => p.GetProperty("fanId").GetString()));
        Assert.Equal("fulfilled", personal[1].GetProperty("status").GetString());
        var audit = (await (await app.As("owner").GetAsync($"/api/workspaces/{app.WorkspaceId}/audit")).Json()).GetProperty("items").EnumerateArray();
        Assert.Contains(audit, a => a.GetProperty("action").GetString() == "winners.contacts_read" && a.GetProperty("actor").GetString() == reader
            && a.GetProperty("target").GetString() == $"{c}/prize");

        await WriteSampleAsync(recordBytes, listBytes);
    }

    /// <summary>With CAMPAIGNS_WRITE_DRAW_SAMPLES=DIR, keeps this run's public record and list (samples/draws/ is made this way).</summary>
    private static async Task WriteSampleAsync(byte[] record, byte[] list)
    {
        if (Environment.GetEnvironmentVariable("CAMPAIGNS_WRITE_DRAW_SAMPLES") is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(Path.Combine(dir, "record.json"), record);
        await File.WriteAllBytesAsync(Path.Combine(dir, "eligible.txt"), list);
    }

    private static JsonElement Slot(JsonElement view, int position)
        => view.GetProperty("slots").EnumerateArray().Single(s => s.GetProperty("position").GetInt32() == position);

    private static Task<HttpResponseMessage> Promote(HttpClient c, string campaign, int position, string reason, string? note = null)
        => c.PostAsJsonAsync($"/api/campaigns/{campaign}/draws/prize/winners/{position}/promote", new { reason, note });

    private static Task<HttpResponseMessage> Status(HttpClient c, string campaign, int position, string status)
        => c.PutAsJsonAsync($"/api/campaigns/{campaign}/draws/prize/winners/{position}/status", new { status });

    /// <summary>Waits (bounded) for the queue trigger to deliver at least <paramref name="count"/> webhooks.</summary>
    private static async Task<List<JsonElement>> Deliveries(WebhookCapture webhook, int count)
    {
        for (var i = 0; i < 300 && webhook.Received.Count < count; i++) await Task.Delay(100);
        Assert.True(webhook.Received.Count >= count, $"expected {count} webhook deliveries, got {webhook.Received.Count}");
        return webhook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.Clone()).ToList();
    }

    [Fact]
    public async Task Top_n_by_public_vote_ranks_each_persons_best_entry_and_settles_ties_by_the_seeded_draw()
    {
        var fakes = new FakeCapabilities();
        var (app, time) = await StartAsync(fakes);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");
        // Owner a has two entries (10 and 3 votes): one line, score 10. b, c, d tie at 7; e has 2; f is blocked; g's entry is hidden.
        var entries = new (string Entry, string Owner, long Votes, string Status)[]
        {
            ("e-a1", "fan-a", 10, "approved"), ("e-a2", "fan-a", 3, "approved"), ("e-b", "fan-b", 7, "approved"), ("e-c", "fan-c", 7, "approved"),
            ("e-d", "fan-d", 7, "approved"), ("e-e", "fan-e", 2, "approved"), ("e-f", "fan-f", 50, "approved"), ("e-g", "fan-g", 40, "hidden"),
        };
        fakes.Entries[c] = entries.Select(e => new EntryInfo(c, e.Entry, e.Owner, "video", e.Status, now.AddDays(-1), e.Entry, "en")).ToList();
        fakes.Revealed[(c, "final")] = new RevealedTally(c, "final", now, entries.Select(e => new RevealedCount(RevealedTally.EntriesCategory, e.Entry, e.Votes)).ToList());
        fakes.Blocked[c] = ["fan-f"];
        foreach (var owner in entries.Select(e => e.Owner).Distinct()) await FanAsync(app, c, owner, now);

        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/reporters", new { method = "topVotes", roundId = "final", winners = 2, alternates = 1 })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/reporters/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromDays(1));
        var record = await (await marketer.PostAsync($"/api/campaigns/{c}/draws/reporters/run", null)).Json();
        Assert.Equal("entries", record.GetProperty("pool").GetString());
        Assert.True(record.GetProperty("list").GetProperty("scored").GetBoolean());
        var winners = record.GetProperty("winnerIds").EnumerateArray().Select(e => e.GetString()!).ToList();
        var alternate = record.GetProperty("alternateIds")[0].GetString()!;
        Assert.Equal(Pid(app, c, "fan-a"), winners[0]);
        var tied = new[] { "fan-b", "fan-c", "fan-d" }.Select(f => Pid(app, c, f)).ToHashSet();
        Assert.Contains(winners[1], tied);
        Assert.Contains(alternate, tied);
        Assert.Equal(1, record.GetProperty("excluded").GetProperty("blocked").GetInt32());

        var (recordBytes, listBytes) = await PublishedAsync(app, c, "reporters");
        var list = System.Text.Encoding.UTF8.GetString(listBytes);
        Assert.Contains(Pid(app, c, "fan-a") + " 10\n", list);
        Assert.DoesNotContain(Pid(app, c, "fan-g"), list);
        Assert.DoesNotContain(Pid(app, c, "fan-f"), list);
        Assert.Equal(5, list.Count(ch => ch == '\n'));
        Assert.Equal(DrawVerifier.Match, DrawVerifier.Verify(recordBytes, listBytes).ExitCode);

        // Admins see which entry won for each person.
        var personal = (await (await app.As("owner").GetAsync($"/api/campaigns/{c}/draws/reporters/winners")).Json()).GetProperty("items");
        Assert.Equal("e-a1", personal[0].GetProperty("entryId").GetString());

        // One win per person: a later draw in the same campaign leaves out the current winners.
        fakes.Voters[c] = ["fan-a", "fan-b", "fan-c", "fan-d", "fan-e"];
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/bonus", new { method = "random", pool = "voters", winners = 3, closeAt = time.GetUtcNow().AddHours(1) })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/bonus/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromHours(2));
        var bonus = await (await marketer.PostAsync($"/api/campaigns/{c}/draws/bonus/run", null)).Json();
        Assert.Equal(2, bonus.GetProperty("excluded").GetProperty("already_won").GetInt32());
        Assert.DoesNotContain(bonus.GetProperty("winnerIds").EnumerateArray(), w => winners.Contains(w.GetString()!));

        // A random draw among entrants: one ticket per person with an approved entry, whatever their number of entries.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/entrants", new { method = "random", pool = "entrants", winners = 1, alternates = 9, closeAt = time.GetUtcNow().AddHours(1), filters = new { oneWinPerPerson = false } })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/entrants/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromHours(2));
        var entrants = await (await marketer.PostAsync($"/api/campaigns/{c}/draws/entrants/run", null)).Json();
        var everyone = entrants.GetProperty("winnerIds").EnumerateArray().Concat(entrants.GetProperty("alternateIds").EnumerateArray()).Select(e => e.GetString()!).ToList();
        Assert.Equal(new[] { "fan-a", "fan-b", "fan-c", "fan-d", "fan-e" }.Select(f => Pid(app, c, f)).Order(), everyone.Order());
        Assert.Equal(5, entrants.GetProperty("list").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Hybrid_draws_rank_by_the_published_weights_of_jury_and_votes()
    {
        var fakes = new FakeCapabilities();
        var (app, time) = await StartAsync(fakes);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");
        // 0.6 × jury + 0.4 × votes / 100: x = 0.6×0.5 + 0.4×1 = 0.7; y = 0.6×1 + 0.4×0.2 = 0.68; z = 0.6×0.9 = 0.54 (no votes).
        fakes.Entries[c] = [new(c, "e-x", "fan-x", "video", "approved", now, null, null), new(c, "e-y", "fan-y", "video", "approved", now, null, null),
            new(c, "e-z", "fan-z", "video", "approved", now, null, null)];
        fakes.Revealed[(c, "final")] = new RevealedTally(c, "final", now, [new(RevealedTally.EntriesCategory, "e-x", 100), new(RevealedTally.EntriesCategory, "e-y", 20)]);
        fakes.Jury[(c, "final")] = [new("e-x", 0.5m), new("e-y", 1m), new("e-z", 0.9m)];
        foreach (var f in new[] { "fan-x", "fan-y", "fan-z" }) await FanAsync(app, c, f, now);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/hybrid", new { method = "hybrid", roundId = "final", juryWeight = 0.6, winners = 1, alternates = 2 })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/hybrid/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromDays(1));
        var record = await (await marketer.PostAsync($"/api/campaigns/{c}/draws/hybrid/run", null)).Json();
        Assert.Equal(0.6m, record.GetProperty("filters").GetProperty("juryWeight").GetDecimal());
        var order = record.GetProperty("winnerIds").EnumerateArray().Concat(record.GetProperty("alternateIds").EnumerateArray()).Select(e => e.GetString()).ToList();
        Assert.Equal(new[] { "fan-x", "fan-y", "fan-z" }.Select(f => Pid(app, c, f)), order);
        var (recordBytes, listBytes) = await PublishedAsync(app, c, "hybrid");
        Assert.Contains(Pid(app, c, "fan-y") + " 0.680000\n", System.Text.Encoding.UTF8.GetString(listBytes));
        Assert.Equal(DrawVerifier.Match, DrawVerifier.Verify(recordBytes, listBytes).ExitCode);
    }

    [Fact]
    public async Task The_scheduler_phase_action_draws_at_the_due_instant_once()
    {
        var fakes = new FakeCapabilities();
        var (app, time) = await StartAsync(fakes);
        await using var _ = app;
        var now = time.GetUtcNow();
        var c = await CampaignAsync(app, now);
        var marketer = app.As("marketer");
        fakes.Voters[c] = ["fan-1", "fan-2", "fan-3"];
        foreach (var f in fakes.Voters[c]) await FanAsync(app, c, f, now);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{c}/draws/auto", new { method = "random", pool = "voters", winners = 1, alternates = 1 })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/draws/auto/commit", null)).StatusCode);

        var action = Assert.Single(app.Services.GetServices<IPhaseAction>(), a => a.Kind == "winners.draw");
        var due = Assert.Single(await action.DueInstantsAsync(c, default));
        Assert.Equal(now.AddDays(1), due);
        time.Advance(TimeSpan.FromDays(1));
        await action.RunAsync(c, due, default);
        var first = await (await marketer.GetAsync($"/api/campaigns/{c}/draws/auto")).Json();
        Assert.Equal("drawn", first.GetProperty("status").GetString());
        time.Advance(TimeSpan.FromMinutes(5));
        await action.RunAsync(c, due, default); // the scheduler may call twice: nothing changes
        var second = await (await marketer.GetAsync($"/api/campaigns/{c}/draws/auto")).Json();
        Assert.Equal(first.GetProperty("drawnAt").GetDateTimeOffset(), second.GetProperty("drawnAt").GetDateTimeOffset());
        Assert.Equal(first.GetProperty("slots").GetRawText(), second.GetProperty("slots").GetRawText());
        Assert.Empty(await action.DueInstantsAsync(c, default));
    }
}
