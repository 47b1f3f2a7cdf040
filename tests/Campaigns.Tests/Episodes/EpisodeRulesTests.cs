using Campaigns.Platform;
using Campaigns.Campaigns;
using Campaigns.Episodes;

namespace Campaigns.Tests.Episodes;

public sealed class EpisodeRulesTests
{
    private static readonly DateTimeOffset Now = new(2027, 6, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly Campaign Campaign = new("c-rules", "n", "b", "Europe/Zurich", ["en", "fr"], [CampaignFeature.Episodes],
        new CampaignWindows(), new Eligibility(), null, null, CampaignStatus.Published, Now, Now);

    private static List<Slot> Daily(int count)
    {
        var (p, _, _) = EpisodeTime.Parse(new RecurrenceInput("2027-06-01", ["19:00"], Count: count), null);
        return EpisodeTime.Expand(p!, Campaign.Zone);
    }

    private static Dictionary<string, EpisodeContent> Content(string title) => new() { ["en"] = new EpisodeContent(title) };

    private static List<Episode> Append(int n, List<Slot> slots)
    {
        var list = new List<Episode>();
        for (var i = 0; i < n; i++)
        {
            var d = EpisodeRules.Add(Campaign, list, slots, new EpisodeInput(Content($"t{i}")), $"e-{i:000}", "s-1", Now);
            Assert.Null(d.Problem);
            list.Add(Assert.Single(d.Changed));
        }
        return list;
    }

    [Fact]
    public void Appending_fills_slots_in_order_and_inserting_shifts_the_later_ones_by_one_slot()
    {
        var slots = Daily(5);
        var eps = Append(3, slots);
        Assert.Equal(slots.Take(3).Select(s => s.Utc), eps.Select(e => e.DueAt));

        var insert = EpisodeRules.Add(Campaign, eps, slots, new EpisodeInput(Content("new"), Position: 1), "e-new", "s-1", Now);
        Assert.Null(insert.Problem);
        var byId = insert.Changed.ToDictionary(e => e.Id, e => e.DueAt);
        Assert.Equal(slots[1].Utc, byId["e-new"]);
        Assert.Equal(slots[2].Utc, byId["e-001"]);
        Assert.Equal(slots[3].Utc, byId["e-002"]);
        Assert.False(byId.ContainsKey("e-000"));

        var full = Append(5, slots);
        Assert.Equal("no_free_slot", EpisodeRules.Add(Campaign, full, slots, new EpisodeInput(Content("x")), "e-x", "s-1", Now).Problem!.Code);
        var pinned = EpisodeRules.Add(Campaign, full, slots, new EpisodeInput(Content("x"), At: "2027-06-20T19:00"), "e-x", "s-1", Now);
        Assert.True(pinned.Changed[0].Pinned);
        Assert.Equal(new DateTimeOffset(2027, 6, 20, 17, 0, 0, TimeSpan.Zero), pinned.Changed[0].DueAt);
    }

    [Fact]
    public void Reorder_keeps_the_slots_and_refuses_published_or_partial_lists()
    {
        var slots = Daily(3);
        var eps = Append(3, slots);
        var d = EpisodeRules.Reorder(eps, ["e-002", "e-000", "e-001"], Now);
        Assert.Null(d.Problem);
        var byId = d.Changed.ToDictionary(e => e.Id, e => e.DueAt);
        Assert.Equal(slots[0].Utc, byId["e-002"]);
        Assert.Equal(slots[1].Utc, byId["e-000"]);
        Assert.Equal(slots[2].Utc, byId["e-001"]);

        Assert.Equal("invalid_order", EpisodeRules.Reorder(eps, ["e-002", "e-000"], Now).Problem!.Code);
        var published = eps.Select(e => e.Id == "e-000" ? e with { State = EpisodeState.Published } : e).ToList();
        Assert.Equal("episode_published", EpisodeRules.Reorder(published, ["e-000", "e-001", "e-002"], Now).Problem!.Code);
        Assert.Null(EpisodeRules.Reorder(published, ["e-002", "e-001"], Now).Problem);
    }

    [Fact]
    public void Published_and_cancelled_episodes_cannot_change_and_past_slots_cannot_be_scheduled()
    {
        var e = Append(1, Daily(1))[0];
        var published = e with { State = EpisodeState.Published };
        Assert.Equal("episode_published", EpisodeRules.Edit(published, new EpisodeEdit(Content("x")), Campaign, Now).Problem!.Code);
        Assert.Equal("episode_published", EpisodeRules.Cancel(published, "r", Now).Problem!.Code);
        Assert.Equal("episode_published", EpisodeRules.Schedule(published, Now).Problem!.Code);
        Assert.Equal("episode_cancelled", EpisodeRules.Schedule(e with { State = EpisodeState.Cancelled }, Now).Problem!.Code);
        Assert.Equal("slot_in_past", EpisodeRules.Schedule(e, e.DueAt).Problem!.Code);
        Assert.Equal(EpisodeState.Scheduled, EpisodeRules.Schedule(e, Now).Changed[0].State);
        Assert.Equal("times_out_of_order", EpisodeRules.Edit(e, new EpisodeEdit(Content("x"), At: "2027-05-01T19:00"), Campaign, Now).Problem!.Code);
    }

    [Fact]
    public void Due_episodes_are_published_on_time_late_or_skipped_per_the_campaign_policy()
    {
        var e = Append(1, Daily(1))[0] with { State = EpisodeState.Scheduled };
        var onTime = EpisodeRules.Publish(e, new EpisodeSettings(), e.DueAt.AddSeconds(30));
        Assert.Equal((EpisodeState.Published, false, false), (onTime.Updated.State, onTime.Updated.Late, onTime.Skipped));
        var late = EpisodeRules.Publish(e, new EpisodeSettings(), e.DueAt.AddHours(3));
        Assert.Equal((EpisodeState.Published, true), (late.Updated.State, late.Updated.Late));
        var skipped = EpisodeRules.Publish(e, new EpisodeSettings(CatchUpPolicy.Skip), e.DueAt.AddHours(3));
        Assert.Equal((EpisodeState.Cancelled, "missed", true), (skipped.Updated.State, skipped.Updated.CancelReason, skipped.Skipped));
        Assert.Equal(EpisodeState.Published, EpisodeRules.Publish(e, new EpisodeSettings(CatchUpPolicy.Skip), e.DueAt.AddMinutes(1)).Updated.State);
    }

    [Fact]
    public void Content_limits_and_locales_are_enforced()
    {
        Assert.Null(EpisodeRules.ValidateContent(new() { ["fr"] = new EpisodeContent("Titre", "Corps", ["media/ep1.jpg"], ["https://cdn.example/v.mp4"], "Citation", "Auteur") }, Campaign));
        Assert.Equal("content_too_large", EpisodeRules.ValidateContent(new() { ["en"] = new EpisodeContent("t", new string('x', 9000)) }, Campaign)!.Code);
        Assert.Equal("content_too_large", EpisodeRules.ValidateContent(new()
        {
            ["en"] = new EpisodeContent("t", new string('x', 7500), Quote: new string('q', 900)),
            ["fr"] = new EpisodeContent("t", new string('x', 7500), Quote: new string('q', 900)),
            ["de"] = new EpisodeContent("t", new string('x', 7500)),
            ["it"] = new EpisodeContent("t", new string('x', 7500)),
        }, Campaign with { Locales = ["en", "fr", "de", "it"] })!.Code);
        Assert.Equal("validation_failed", EpisodeRules.ValidateContent(new() { ["de"] = new EpisodeContent("t") }, Campaign)!.Code);
        Assert.Equal("validation_failed", EpisodeRules.ValidateContent(new() { ["en"] = new EpisodeContent("t", Images: ["../etc/passwd"]) }, Campaign)!.Code);
        Assert.Equal("validation_failed", EpisodeRules.ValidateContent(new() { ["en"] = new EpisodeContent("t", Images: ["http://insecure.example/a.jpg"]) }, Campaign)!.Code);
        Assert.Equal("validation_failed", EpisodeRules.ValidateContent(new() { ["en"] = new EpisodeContent(" ") }, Campaign)!.Code);
    }

    [Fact]
    public void Engagement_rate_is_reactions_over_views()
    {
        Assert.Equal(0.25, EngagementRules.Of(8, 2).Rate);
        Assert.Null(EngagementRules.Of(0, 0).Rate);
    }

    [Fact]
    public void Webhook_signature_matches_the_documented_example_and_verification_checks_secret_body_and_age()
    {
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id = "la-serie.e-abc.published", body = "{\"id\":\"la-serie.e-abc.published\"}";
        var sig = StandardWebhook.Sign(secret, id, 1806260405, body);
        Assert.Equal("v1,e7eF0coJ0HmDfIPGZoyCmjil9JzZIX/Cz7nR5DatmNc=", sig); // docs/episodes.md
        var at = DateTimeOffset.FromUnixTimeSeconds(1806260405);
        Assert.True(StandardWebhook.Verify(secret, id, 1806260405, body, "v1,old " + sig, at.AddMinutes(2), TimeSpan.FromMinutes(5)));
        Assert.False(StandardWebhook.Verify(secret, id, 1806260405, body + " ", sig, at, TimeSpan.FromMinutes(5)));
        Assert.False(StandardWebhook.Verify("whsec_" + Convert.ToBase64String(new byte[24]), id, 1806260405, body, sig, at, TimeSpan.FromMinutes(5)));
        Assert.False(StandardWebhook.Verify(secret, id, 1806260405, body, sig, at.AddMinutes(6), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Webhook_backoff_doubles_and_is_capped()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), EpisodeWebhooks.Backoff(1, 30));
        Assert.Equal(TimeSpan.FromSeconds(60), EpisodeWebhooks.Backoff(2, 30));
        Assert.Equal(TimeSpan.FromSeconds(240), EpisodeWebhooks.Backoff(4, 30));
        Assert.Equal(TimeSpan.FromHours(1), EpisodeWebhooks.Backoff(20, 30));
    }
}
