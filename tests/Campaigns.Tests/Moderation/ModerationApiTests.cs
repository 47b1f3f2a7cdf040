using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Moderation;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.Moderation;

public sealed class ModerationApiTests
{

    private sealed record Harness(TestApp App, FakeTimeProvider Time, FakeEntries Entries, FakeVotes Votes) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();

        public Task Enqueue(string campaign, string entry, string safety = "review", string owner = "fan-1", string kind = "photo", string? locale = "fr", params string[] flags)
            => App.Service<IReviewQueue>().EnqueueAsync(new ReviewRequest(campaign, entry, owner, kind, locale, Time.GetUtcNow(), safety, null, flags, "text of " + entry), default);
    }

    private static async Task<Harness> Start(Dictionary<string, string?>? settings = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var entries = new FakeEntries();
        var votes = new FakeVotes();
        var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddSingleton<IEntryModeration>(entries);
            b.Services.AddSingleton<IEntryDirectory>(entries);
            b.Services.AddSingleton<IVoteSuspension>(votes);
            b.Services.AddSingleton<IRevealedResults>(votes);
            b.Services.AddSingleton<IFanVoteCounts>(votes);
        }, settings ?? new() { ["Moderation:ClaimLeaseSeconds"] = "60" });
        return new(app, time, entries, votes);
    }

    private static string[] Ids(JsonElement claim) => claim.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("entryId").GetString()!).ToArray();

    [Fact]
    public async Task Two_moderators_claiming_at_once_never_get_the_same_item()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        for (var i = 0; i < 30; i++) await h.Enqueue(c, $"e{i:D2}");
        var mods = Enumerable.Range(0, 4).Select(i => h.App.As("moderator", $"mod-{i}")).ToArray();

        // Four moderators race for 12 items each out of 30: every item goes to at most one of them and none is lost.
        var claims = await Task.WhenAll(mods.Select(m => m.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 12 })));
        var got = new List<string>();
        foreach (var r in claims)
        {
            Assert.Equal(200, (int)r.StatusCode);
            got.AddRange(Ids(await r.Json()));
        }
        Assert.Equal(got.Count, got.Distinct().Count());
        Assert.Equal(30, got.Count);

        // Nothing is left to claim while the leases run.
        Assert.Empty(Ids(await (await mods[0].PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 5 })).Json()));
    }

    [Fact]
    public async Task A_claim_retried_with_its_Idempotency_Key_answers_with_the_same_items_while_their_lease_lasts()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        for (var i = 0; i < 6; i++) await h.Enqueue(c, $"k{i}");
        var mod = h.App.As("moderator", "mod-k");
        async Task<string[]> Claim(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/moderation/campaigns/{c}/claims") { Content = JsonContent.Create(new { count = 2 }) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await mod.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            return Ids(await response.Json());
        }

        Assert.Equal(["k0", "k1"], await Claim("batch-1"));
        Assert.Equal(["k0", "k1"], await Claim("batch-1")); // the answer was lost: the same two, not k2 and k3 held out of sight
        Assert.Equal(["k2", "k3"], await Claim("batch-2"));
        // Once the lease is over the key no longer holds anything: the retry is a new claim.
        h.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(["k0", "k1"], await Claim("batch-1"));
    }

    [Fact]
    public async Task Claims_take_the_oldest_first_and_an_expired_lease_returns_items_to_the_queue()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        await h.Enqueue(c, "old", locale: "de");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.Enqueue(c, "mid", kind: "text");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.Enqueue(c, "new", flags: "brand-term");
        var a = h.App.As("moderator", "mod-a");
        var b = h.App.As("moderator", "mod-b");

        var queue = await (await a.GetAsync($"/api/moderation/campaigns/{c}/queue")).Json();
        Assert.Equal(["old", "mid", "new"], Ids(queue));
        Assert.Equal(["mid"], Ids(await (await a.GetAsync($"/api/moderation/campaigns/{c}/queue?kind=text")).Json()));
        Assert.Equal(["new"], Ids(await (await a.GetAsync($"/api/moderation/campaigns/{c}/queue?flag=brand-term")).Json()));
        Assert.Equal(["old"], Ids(await (await a.GetAsync($"/api/moderation/campaigns/{c}/queue?locale=de")).Json()));
        Assert.Equal(["new", "old", "mid"], Ids(await (await a.GetAsync($"/api/moderation/campaigns/{c}/queue?order=priority")).Json()));

        Assert.Equal(["old", "mid"], Ids(await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 2 })).Json()));
        Assert.Equal(["new"], Ids(await (await b.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 5 })).Json()));

        // b may not decide what a holds.
        await (await b.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/old/decision", new { action = "approve" })).Problem(409, "item_not_held");

        // a walks away; after the 60 s lease the items come back (b's own expired claim too) and b takes them.
        h.Time.Advance(TimeSpan.FromSeconds(61));
        await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/old/decision", new { action = "approve" })).Problem(409, "claim_expired");
        await (await b.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/new/decision", new { action = "approve" })).Problem(409, "claim_expired");
        Assert.Equal(["old", "mid", "new"], Ids(await (await b.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 5 })).Json()));
        await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/old/decision", new { action = "approve" })).Problem(409, "item_not_held");
        Assert.Equal(200, (int)(await b.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/old/decision", new { action = "approve" })).StatusCode);

        // Released items are claimable at once.
        var released = await (await b.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims/release", new { entryIds = new[] { "mid" } })).Json();
        Assert.Equal(1, released.GetProperty("released").GetInt32());
        Assert.Equal(["mid"], Ids(await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 5 })).Json()));
    }

    [Fact]
    public async Task Every_decision_is_audited_with_who_when_what_and_the_previous_state_and_the_fan_sees_the_reason_text()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        await h.Enqueue(c, "bad", safety: "reject"); // hard block: rejected automatically
        await h.Enqueue(c, "e1");
        var mod = h.App.As("moderator", "mod-a");
        var admin = h.App.As("owner", "boss");

        await (await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 5 })).Json();
        var t1 = h.Time.GetUtcNow();
        var esc = await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/e1/decision", new { action = "escalate", note = "is this a trademark?" });
        Assert.Equal(200, (int)esc.StatusCode);
        Assert.False((await esc.Json()).GetProperty("applied").GetBoolean());

        // Escalated items are for admins.
        await (await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { status = "escalated" })).Problem(403, "escalated_admin_only");
        h.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(["e1"], Ids(await (await admin.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { status = "escalated" })).Json()));
        await (await admin.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/e1/decision", new { action = "reject", reasonCode = "nope" })).Problem(400, "unknown_reason");
        await (await admin.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/e1/decision", new { action = "reject" })).Problem(400, "reason_required");
        await (await admin.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/e1/decision", new { action = "delete" })).Problem(400, "unknown_action");
        var t2 = h.Time.GetUtcNow();
        Assert.Equal(200, (int)(await admin.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/e1/decision", new { action = "reject", reasonCode = "copyright", note = "stock photo" })).StatusCode);
        await (await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/e1/decision", new { action = "approve" })).Problem(409, "already_decided");

        var read = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/items/e1")).Json();
        var audit = read.GetProperty("audit").EnumerateArray().ToList();
        Assert.Equal(2, audit.Count);
        Assert.Equal(("escalate", "mod-a", "pending", "escalated", "is this a trademark?"), Row(audit[0]));
        Assert.Equal(t1, audit[0].GetProperty("at").GetDateTimeOffset());
        Assert.Equal(("reject", "boss", "escalated", "rejected", "stock photo"), Row(audit[1]));
        Assert.Equal("copyright", audit[1].GetProperty("reasonCode").GetString());
        Assert.Equal(t2, audit[1].GetProperty("at").GetDateTimeOffset());

        var all = (await (await mod.GetAsync($"/api/moderation/campaigns/{c}/audit")).Json()).GetProperty("items").EnumerateArray().ToList();
        var auto = Assert.Single(all, a => a.GetProperty("subject").GetString() == "bad");
        Assert.Equal(("auto_reject", "auto", true), (auto.GetProperty("action").GetString(), auto.GetProperty("actor").GetString(), auto.GetProperty("automatic").GetBoolean()));
        Assert.Equal(3, all.Count);

        // What Submissions was told: the reason text in the entry's language, never the internal note.
        var applied = h.Entries.Applied.ToList();
        Assert.Equal(("bad", "rejected", "rules", "auto"), (applied[0].EntryId, applied[0].Decision.Status, applied[0].Decision.ReasonCode, applied[0].Decision.Actor));
        var e1 = Assert.Single(applied, x => x.EntryId == "e1");
        Assert.Equal(("rejected", "copyright", "Votre participation utilise un contenu dont vous n'avez pas les droits.", "boss"),
            (e1.Decision.Status, e1.Decision.ReasonCode, e1.Decision.ReasonText, e1.Decision.Actor));

        // Enqueuing the same entry again changes nothing.
        await h.Enqueue(c, "e1");
        Assert.Equal(2, (await (await mod.GetAsync($"/api/moderation/campaigns/{c}/items/e1")).Json()).GetProperty("audit").GetArrayLength());
    }

    private static (string?, string?, string?, string?, string?) Row(JsonElement a) => (a.GetProperty("action").GetString(), a.GetProperty("actor").GetString(),
        a.GetProperty("previousStatus").GetString(), a.GetProperty("newStatus").GetString(), a.GetProperty("note").GetString());

    [Fact]
    public async Task Bulk_decisions_report_each_item_and_refuse_items_not_held()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        foreach (var e in new[] { "b1", "b2", "b3" }) await h.Enqueue(c, e);
        var a = h.App.As("moderator", "mod-a");
        Assert.Equal(["b1", "b2"], Ids(await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 2 })).Json()));
        var r = await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/decisions", new { entryIds = new[] { "b1", "b2", "b3", "zz" }, action = "reject", reasonCode = "spam" })).Json();
        var results = r.GetProperty("results").EnumerateArray().Select(x => (x.GetProperty("entryId").GetString(), x.GetProperty("ok").GetBoolean(),
            x.GetProperty("code").ValueKind == JsonValueKind.Null ? null : x.GetProperty("code").GetString())).ToList();
        Assert.Equal([("b1", true, null), ("b2", true, null), ("b3", false, "item_not_held"), ("zz", false, "item_not_found")], results);
        await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/decisions", new { entryIds = new[] { "b3" }, action = "escalate" })).Problem(400, "bulk_action_not_allowed");
        await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/decisions", new { entryIds = new[] { "b3" }, action = "reject", reasonCode = "meh" })).Problem(400, "unknown_reason");
        await (await a.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 500 })).Problem(400, "validation_failed");
        await (await h.App.As("fan").PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 1 })).Problem(403, "forbidden");
        await (await a.GetAsync("/api/moderation/campaigns/BAD!/queue")).Problem(404, "campaign_not_found");
    }

    [Fact]
    public async Task Reports_at_the_threshold_hide_an_approved_entry_pending_review()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        var mod = h.App.As("moderator", "mod-a");
        Assert.Equal(200, (int)(await mod.PutAsJsonAsync($"/api/moderation/campaigns/{c}/settings", new { reportHideThreshold = 2, autoApprove = true })).StatusCode);
        await h.Enqueue(c, "story", safety: "allow", owner: "author"); // approved automatically
        var url = $"/api/campaigns/{c}/entries/story/reports";

        await (await h.App.As("fan", "author").PostAsJsonAsync(url, new { reason = "spam" })).Problem(409, "own_entry");
        await (await h.App.As("fan", "r1").PostAsJsonAsync(url, new { reason = "ugly" })).Problem(400, "unknown_reason");
        await (await h.App.As("fan", "r1").PostAsJsonAsync($"/api/campaigns/{c}/entries/nope/reports", new { reason = "spam" })).Problem(404, "entry_not_found");
        Assert.Equal(202, (int)(await h.App.As("fan", "r1").PostAsJsonAsync(url, new { reason = "offensive" })).StatusCode);
        // The same fan twice counts once.
        var again = await (await h.App.As("fan", "r1").PostAsJsonAsync(url, new { reason = "offensive" })).Json();
        Assert.False(again.GetProperty("counted").GetBoolean());
        Assert.Empty(Ids(await (await mod.GetAsync($"/api/moderation/campaigns/{c}/queue")).Json()));

        Assert.Equal(202, (int)(await h.App.As("fan", "r2").PostAsJsonAsync(url, new { reason = "spam", note = "an ad" })).StatusCode);
        var queue = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/queue?flag=reported")).Json();
        var item = Assert.Single(queue.GetProperty("items").EnumerateArray());
        Assert.Equal(("story", true, 2), (item.GetProperty("entryId").GetString(), item.GetProperty("hidden").GetBoolean(), item.GetProperty("reports").GetInt32()));
        Assert.Equal("hidden", h.Entries.Applied.Last().Decision.Status);

        // A moderator clears it: visible again, and the report count starts over.
        await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 1 });
        Assert.Equal(200, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/story/decision", new { action = "approve" })).StatusCode);
        Assert.Equal("approved", h.Entries.Applied.Last().Decision.Status);
        var audit = (await (await mod.GetAsync($"/api/moderation/campaigns/{c}/items/story")).Json()).GetProperty("audit").EnumerateArray()
            .Select(a => (a.GetProperty("action").GetString(), a.GetProperty("previousStatus").GetString())).ToList();
        Assert.Equal([("auto_approve", null), ("hide_reported", "approved"), ("approve", "pending+hidden")], audit);
    }

    [Fact]
    public async Task Blocking_hides_entries_and_suspends_votes_and_unblocking_restores_exactly()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        var now = h.Time.GetUtcNow();
        h.Entries.Add(c, "x1", "troll", "approved", now);
        h.Entries.Add(c, "x2", "troll", "rejected", now);
        h.Entries.Add(c, "x3", "troll", "pending", now);
        h.Entries.Add(c, "y1", "nice", "approved", now);
        h.Votes.Votes.AddRange([new(c, "troll", "y1", now, false), new(c, "troll", "y1", now, true), new(c, "troll", "x1", now, false), new(c, "nice", "x1", now, false)]);
        var before = (h.Entries.Entries.Values.OrderBy(e => e.EntryId).ToList(), h.Votes.Votes.ToList());
        var mod = h.App.As("moderator", "mod-a");

        var blocked = await (await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/fans/troll/block", new { reason = "vote ring" })).Json();
        Assert.Equal((3, 2), (blocked.GetProperty("block").GetProperty("entriesHidden").GetInt32(), blocked.GetProperty("block").GetProperty("votesInvalidated").GetInt32()));
        Assert.All(h.Entries.Entries.Values.Where(e => e.Owner == "troll"), e => Assert.True(e.OwnerHidden));
        Assert.False(h.Entries.Entries[(c, "y1")].OwnerHidden);
        Assert.All(h.Votes.Votes.Where(v => v.FanId == "troll"), v => Assert.True(v.Invalid || v.Blocked));
        Assert.False(h.Votes.Votes.Single(v => v.FanId == "nice").Blocked);
        Assert.True(await h.App.Service<IFanBlocklist>().IsBlockedAsync(c, "troll", default));
        Assert.False(await h.App.Service<IFanBlocklist>().IsBlockedAsync(c, "nice", default));
        // Blocking again is harmless.
        Assert.Equal(200, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/fans/troll/block", new { })).StatusCode);

        // A new entry from the blocked fan is flagged for review and never auto-approved.
        await mod.PutAsJsonAsync($"/api/moderation/campaigns/{c}/settings", new { autoApprove = true });
        await h.Enqueue(c, "x4", safety: "allow", owner: "troll");
        var queued = Assert.Single((await (await mod.GetAsync($"/api/moderation/campaigns/{c}/queue")).Json()).GetProperty("items").EnumerateArray());
        Assert.Contains("blocked-fan", queued.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var blocks = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/blocks")).Json();
        Assert.Equal("troll", Assert.Single(blocks.GetProperty("items").EnumerateArray()).GetProperty("fanId").GetString());

        Assert.Equal(200, (int)(await mod.PostAsync($"/api/moderation/campaigns/{c}/fans/troll/unblock", null)).StatusCode);
        Assert.Equal(before.Item1, h.Entries.Entries.Values.Where(e => e.EntryId != "x4").OrderBy(e => e.EntryId).ToList());
        Assert.Equal(before.Item2, h.Votes.Votes);
        Assert.False(await h.App.Service<IFanBlocklist>().IsBlockedAsync(c, "troll", default));
        await (await mod.PostAsync($"/api/moderation/campaigns/{c}/fans/troll/unblock", null)).Problem(404, "fan_not_blocked");

        var audit = (await (await mod.GetAsync($"/api/moderation/campaigns/{c}/fans/troll/audit")).Json()).GetProperty("items").EnumerateArray()
            .Select(a => (a.GetProperty("action").GetString(), a.GetProperty("actor").GetString())).ToList();
        Assert.Equal([("block", "mod-a"), ("block_applied", "mod-a"), ("unblock", "mod-a")], audit);
        Assert.Equal(["suspend troll by mod-a", "lift troll by mod-a"], h.Votes.Calls.Distinct());
    }

    [Fact]
    public async Task Sla_figures_give_depth_oldest_pending_age_and_median_time_to_decision()
    {
        await using var h = await Start(new() { ["Moderation:ClaimLeaseSeconds"] = "3600" });
        var c = await h.App.CampaignAsync();
        var mod = h.App.As("moderator", "mod-a");
        await h.Enqueue(c, "s1");
        await h.Enqueue(c, "s2");
        h.Time.Advance(TimeSpan.FromMinutes(30));
        await h.Enqueue(c, "s3");
        await h.Enqueue(c, "s4");
        await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 3 });
        // s1 decided after 40 min, s2 after 50 min; s3 waits.
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(200, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/s1/decision", new { action = "approve" })).StatusCode);
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(200, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/s2/decision", new { action = "reject", reasonCode = "spam" })).StatusCode);

        var sla = await (await h.App.As("marketer").GetAsync($"/api/moderation/campaigns/{c}/sla")).Json();
        Assert.Equal(2, sla.GetProperty("depth").GetInt32());
        Assert.Equal(20 * 60, sla.GetProperty("oldestPendingAgeSeconds").GetDouble());
        Assert.Equal(45 * 60, sla.GetProperty("medianTimeToDecisionSeconds").GetDouble());
        Assert.Equal(1.0, sla.GetProperty("shareDecidedWithinTarget").GetDouble());
    }
    [Fact]
    public async Task Concurrent_reports_are_all_counted_and_hide_the_entry_once()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        var mod = h.App.As("moderator", "mod-a");
        await mod.PutAsJsonAsync($"/api/moderation/campaigns/{c}/settings", new { reportHideThreshold = 3, autoApprove = true });
        await h.Enqueue(c, "hot", safety: "allow", owner: "author");
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            h.App.As("fan", $"reporter-{i}").PostAsJsonAsync($"/api/campaigns/{c}/entries/hot/reports", new { reason = "offensive" })));
        Assert.All(replies, r => Assert.Equal(202, (int)r.StatusCode));
        var read = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/items/hot")).Json();
        Assert.Equal(8, read.GetProperty("item").GetProperty("reports").GetInt32());
        Assert.Single(read.GetProperty("audit").EnumerateArray(), a => a.GetProperty("action").GetString() == "hide_reported");
        Assert.Single(h.Entries.Applied, a => a.Decision.Status == "hidden");
    }

    [Fact]
    public async Task A_decision_whose_process_stopped_before_it_reached_the_entry_still_reaches_it()
    {
        await using var h = await Start(new() { ["Moderation:ApplyCheckSeconds"] = "1" });
        var c = await h.App.CampaignAsync();
        await h.Enqueue(c, "late");
        var mod = h.App.As("moderator", "mod-a");
        Assert.Equal(200, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/claims", new { count = 1 })).StatusCode);
        h.App.Service<ModerationFaults>().AfterDecisionCommit = () => throw new IOException("the instance stopped");
        Assert.Equal(500, (int)(await mod.PostAsJsonAsync($"/api/moderation/campaigns/{c}/items/late/decision", new { action = "approve" })).StatusCode);
        h.App.Service<ModerationFaults>().AfterDecisionCommit = null;
        Assert.DoesNotContain(h.Entries.Applied, a => a.EntryId == "late");

        // Nobody retries: the decision's own follow-up message brings the entry in line.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!h.Entries.Applied.Any(a => a.EntryId == "late") && DateTime.UtcNow < deadline) await Task.Delay(200);
        var applied = Assert.Single(h.Entries.Applied, a => a.EntryId == "late");
        Assert.Equal(("approved", "mod-a"), (applied.Decision.Status, applied.Decision.Actor));
    }

    [Fact]
    public async Task A_report_interrupted_before_it_was_counted_is_counted_when_the_fan_retries()
    {
        await using var h = await Start();
        var c = await h.App.CampaignAsync();
        var mod = h.App.As("moderator", "mod-a");
        await mod.PutAsJsonAsync($"/api/moderation/campaigns/{c}/settings", new { reportHideThreshold = 5, autoApprove = true });
        await h.Enqueue(c, "post", safety: "allow", owner: "author");
        var fan = h.App.As("fan", "reporter-crash");
        var faults = h.App.Service<ModerationFaults>();
        faults.BeforeReportCount = () => throw new IOException("the instance stopped");
        Assert.Equal(500, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{c}/entries/post/reports", new { reason = "offensive" })).StatusCode);
        faults.BeforeReportCount = null;
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{c}/entries/post/reports", new { reason = "offensive" })).StatusCode);
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{c}/entries/post/reports", new { reason = "offensive" })).StatusCode);
        var read = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/items/post")).Json();
        Assert.Equal(1, read.GetProperty("item").GetProperty("reports").GetInt32());
    }

    [Fact]
    public async Task Settings_are_validated_per_campaign_and_at_start_naming_the_setting()
    {
        await using (var h = await Start())
        {
            var mod = h.App.As("moderator", "mod-a");
            var c = await h.App.CampaignAsync();
            await (await mod.PutAsJsonAsync($"/api/moderation/campaigns/{c}/settings", new { reportHideThreshold = 0 })).Problem(400, "validation_failed");
            await (await mod.PutAsJsonAsync($"/api/moderation/campaigns/{c}/settings", new { hardBlockFlags = new[] { "Bad Flag" } })).Problem(400, "validation_failed");
            var defaults = await (await mod.GetAsync($"/api/moderation/campaigns/{c}/settings")).Json();
            Assert.Equal((3, true, false), (defaults.GetProperty("reportHideThreshold").GetInt32(), defaults.GetProperty("autoRejectHardBlocks").GetBoolean(), defaults.GetProperty("autoApprove").GetBoolean()));
            Assert.Equal(["blocklist"], defaults.GetProperty("hardBlockFlags").EnumerateArray().Select(f => f.GetString()));
        }

        var settings = TestApp.Settings(Azurite.Instance);
        settings["Moderation:ClaimLeaseSeconds"] = "1";
        var app = CampaignsApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings));
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Moderation__ClaimLeaseSeconds", string.Join(" ", e.Failures));
        await app.DisposeAsync();
    }
}
