using Campaigns.Campaigns;
using Campaigns.Fans;
using Campaigns.Winners;

namespace Campaigns.Tests.Winners;

public sealed class WinnerRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static Campaign Campaign() => CampaignRules.Create(new CampaignInput("Car", "Brand", "Europe/Zurich", ["en"], [CampaignFeature.Voting],
        Windows: new CampaignWindows(Voting: new TimeWindow(Now.AddDays(-1), Now.AddDays(1)), Reveal: Now.AddDays(2)),
        Eligibility: new Eligibility(18, ["CH"]), Rules: new VersionedText("r2", new() { ["en"] = "Rules" })), "car-vote", "ws-1", Now);

    private static DrawState Configured(DrawInput? input = null)
        => WinnerRules.Configure(null, Campaign(), "d", input ?? new DrawInput(DrawMethod.Random, 1, 2, DrawPool.Voters), Now).Value!;

    private static WinnerRules.Facts Fan(string country = "CH", int age = 30, string rules = "r2", bool ageConfirmed = true, bool blocked = false,
        bool staff = false, bool won = false)
        => new(new FanProfile("f", "F", country, DateOnly.FromDateTime(Now.UtcDateTime).AddYears(-age), staff, Now),
            new CampaignConsent("f", "car-vote", rules, Now, null, ageConfirmed ? Now : null, false, null, false, null), blocked, won);

    [Fact]
    public void Each_filter_excludes_with_its_reason_and_can_be_switched_off()
    {
        var c = Campaign();
        var all = new DrawFilters();
        Assert.Null(WinnerRules.Exclusion(Fan(), all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("no_consent", WinnerRules.Exclusion(Fan() with { Consent = null }, all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("no_consent", WinnerRules.Exclusion(Fan(rules: "r1"), all, c.Rules?.Version, c.Eligibility, Now)); // accepted an older version of the rules
        Assert.Equal("age_not_confirmed", WinnerRules.Exclusion(Fan(ageConfirmed: false), all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("under_age", WinnerRules.Exclusion(Fan(age: 17), all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("country_not_allowed", WinnerRules.Exclusion(Fan(country: "FR"), all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("blocked", WinnerRules.Exclusion(Fan(blocked: true), all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("staff", WinnerRules.Exclusion(Fan(staff: true), all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("already_won", WinnerRules.Exclusion(Fan(won: true), all, c.Rules?.Version, c.Eligibility, Now));
        var none = new DrawFilters(false, false, false, false, false, false);
        Assert.Null(WinnerRules.Exclusion(new WinnerRules.Facts(null, null, true, true), none, c.Rules?.Version, c.Eligibility, Now));
    }

    [Fact]
    public void A_fan_with_no_birth_date_is_excluded_when_the_campaign_sets_a_minimum_age()
    {
        var c = Campaign();
        var all = new DrawFilters();
        Assert.Equal("age_unknown", WinnerRules.Exclusion(Fan() with { Profile = Fan().Profile! with { BirthDate = null } }, all, c.Rules?.Version, c.Eligibility, Now));
        Assert.Equal("age_unknown", WinnerRules.Exclusion(Fan() with { Profile = null }, all, c.Rules?.Version, c.Eligibility, Now));
        // A missing country was already excluded: not on the list.
        Assert.Equal("country_not_allowed", WinnerRules.Exclusion(Fan() with { Profile = Fan().Profile! with { Country = null } }, all, c.Rules?.Version, c.Eligibility, Now));
        // Without a minimum age, no birth date is needed.
        Assert.Null(WinnerRules.Exclusion(Fan() with { Profile = Fan().Profile! with { BirthDate = null } }, all, c.Rules?.Version, c.Eligibility with { MinAge = null }, Now));
    }

    [Fact]
    public void Close_defaults_to_the_window_the_candidates_come_from()
    {
        var c = Campaign();
        Assert.Equal(Now.AddDays(1), WinnerRules.CloseAt(new DrawInput(DrawMethod.Random, 1, Pool: DrawPool.Voters), c));
        Assert.Equal(Now.AddDays(2), WinnerRules.CloseAt(new DrawInput(DrawMethod.TopVotes, 1, RoundId: "r"), c));
        Assert.Null(WinnerRules.CloseAt(new DrawInput(DrawMethod.Random, 1, Pool: DrawPool.Entrants), c));
        Assert.Equal(Now.AddHours(3), WinnerRules.CloseAt(new DrawInput(DrawMethod.Random, 1, Pool: DrawPool.Entrants, CloseAt: Now.AddHours(3)), c));
    }

    [Fact]
    public void The_seed_is_committed_once_before_the_close_and_the_draw_runs_once_after_it()
    {
        var s = Configured();
        Assert.Equal("no_commitment", WinnerRules.CanDraw(s, Now.AddDays(2))!.Code);
        Assert.Equal("commit_after_close", WinnerRules.Commit(s, Campaign().Eligibility, new byte[32], s.CloseAt).Code);
        var committed = WinnerRules.Commit(s, Campaign().Eligibility, new byte[32], Now).Value!;
        Assert.Equal(DrawRules.Commitment(new byte[32], committed.RulesSha256!), committed.Commitment);
        Assert.Null(WinnerRules.Record(committed).Seed);
        Assert.Equal("already_committed", WinnerRules.Commit(committed, Campaign().Eligibility, new byte[32], Now).Code);
        Assert.Equal("draw_committed", WinnerRules.Configure(committed, Campaign(), "d", new DrawInput(DrawMethod.Random, 5, Pool: DrawPool.Voters), Now).Code);
        Assert.Equal("window_open", WinnerRules.CanDraw(committed, s.CloseAt.AddTicks(-1))!.Code);
        Assert.Null(WinnerRules.CanDraw(committed, s.CloseAt));
        var drawn = WinnerRules.Drawn(committed, [new("p1", "f1", null)], "sha", 1, false, [], 18, ["CH"], s.CloseAt);
        Assert.Equal("already_drawn", WinnerRules.CanDraw(drawn, s.CloseAt.AddDays(1))!.Code);
        Assert.Equal(new string('0', 64), WinnerRules.Record(drawn).Seed);
    }

    [Fact]
    public void The_commit_freezes_the_eligibility_and_commits_to_seed_and_rules_together()
    {
        var s = Configured();
        var committed = WinnerRules.Commit(s, new Eligibility(18, ["DE", "CH"]), new byte[32], Now).Value!;
        Assert.Equal(18, committed.MinAge);
        Assert.Equal(["DE", "CH"], committed.Countries!);
        Assert.Equal(DrawRules.Sha256(WinnerRules.RulesText(committed)), committed.RulesSha256);
        Assert.NotEqual(DrawAlgorithm.Commitment(new byte[32]), committed.Commitment);
        // The campaign changing later does not reach the draw; a draw committed before rules were covered still reads it.
        var widened = Campaign() with { Eligibility = new Eligibility(13, ["CH", "DE", "FR"]) };
        Assert.Equal(new Eligibility(18, committed.Countries), WinnerRules.EligibilityOf(committed, widened));
        Assert.Same(widened.Eligibility, WinnerRules.EligibilityOf(committed with { RulesSha256 = null }, widened));

        var record = WinnerRules.Record(committed);
        Assert.Equal((DrawRecord.FormatVersion, 18), (record.Format, record.Filters.MinAge!.Value));
        Assert.Equal(DrawRecord.FormatVersion1, WinnerRules.Record(committed with { RulesSha256 = null }).Format);
        var json = System.Text.Json.JsonSerializer.SerializeToElement(record, WinnersApi.RecordJson);
        Assert.Equal(WinnerRules.RulesText(committed), DrawRules.TextOf(json));

        // Re-sending the same rules answers the draw unchanged; a different rule is refused.
        var input = new DrawInput(DrawMethod.Random, 1, 2, DrawPool.Voters);
        Assert.Same(committed, WinnerRules.Configure(committed, Campaign(), "d", input, Now.AddHours(1)).Value);
        Assert.Equal("draw_committed", WinnerRules.Configure(committed, Campaign(), "d", input with { Filters = new DrawFilters(NotStaff: false) }, Now).Code);
        Assert.Equal("draw_committed", WinnerRules.Configure(committed, Campaign(), "d", input with { CloseAt = Now.AddHours(5) }, Now).Code);
    }

    [Fact]
    public void The_rules_text_is_canonical_whatever_order_offset_or_trailing_zeros_the_record_shows()
    {
        DrawRecordFilters F(string[] countries, decimal? w) => new(true, true, true, true, true, true, 18, countries, "r", w);
        var a = DrawRules.Text("c", "d", "hybrid", "entries", 2, 1, Now, F(["CH", "DE"], 0.7m), "drand", 7, "tie");
        Assert.Equal(a, DrawRules.Text("c", "d", "hybrid", "entries", 2, 1, Now.ToOffset(TimeSpan.FromHours(2)), F(["DE", "CH"], 0.70m), "drand", 7, "tie"));
        Assert.Contains("\ncountries=CH,DE\nroundId=r\njuryWeight=0.7\n", a);
        Assert.StartsWith(DrawRules.Format + "\n", a);
        Assert.NotEqual(a, DrawRules.Text("c", "d", "hybrid", "entries", 2, 1, Now, F(["CH", "DE", "FR"], 0.7m), "drand", 7, "tie"));
    }

    [Fact]
    public void Promotions_take_the_next_alternate_in_order_and_log_the_reason()
    {
        var s = WinnerRules.Commit(Configured(new DrawInput(DrawMethod.Random, 2, 2, DrawPool.Voters)), Campaign().Eligibility, new byte[32], Now).Value!;
        var drawn = WinnerRules.Drawn(s, [new("w1", "f1", null), new("w2", "f2", null), new("a1", "f3", null), new("a2", "f4", null)], "sha", 9, false, [], null, null, s.CloseAt);
        var period = TimeSpan.FromDays(14);
        var first = WinnerRules.Promote(drawn, 2, "declined", null, period, s.CloseAt).Value!;
        Assert.Equal("a1", first.Slots![1].Pid);
        Assert.Equal("w1", first.Slots[0].Pid);
        var second = WinnerRules.Promote(first, 2, "ineligible", "note", period, s.CloseAt).Value!;
        Assert.Equal("a2", second.Slots![1].Pid);
        Assert.Equal([("w2", "a1", 1, "declined"), ("a1", "a2", 2, "ineligible")],
            second.Events!.Select(e => (e.ReplacedId, e.PromotedId, e.AlternateIndex, e.Reason)));
        Assert.Equal("no_alternates_left", WinnerRules.Promote(second, 1, "declined", null, period, s.CloseAt).Code);
        Assert.Equal("claim_period_open", WinnerRules.Promote(drawn, 1, "no_response", null, period, s.CloseAt + period - TimeSpan.FromSeconds(1)).Code);
        Assert.NotNull(WinnerRules.Promote(drawn, 1, "no_response", null, period, s.CloseAt + period).Value);
        // The published winner list of the draw itself never changes.
        Assert.Equal(["w1", "w2"], WinnerRules.Record(second).WinnerIds!);
    }

    [Fact]
    public void Hybrid_scores_weigh_normalised_jury_and_votes_and_are_written_canonically()
    {
        Assert.Equal(0.7m * 0.5m + 0.3m * 1m, WinnerRules.Hybrid(0.5m, 200, 200, 0.7m));
        Assert.Equal(0.7m, WinnerRules.Hybrid(1m, 0, 0, 0.7m));
        Assert.Equal("0.333333", WinnerRules.DecimalScore(1m / 3m));
        Assert.Equal("1.000000", WinnerRules.DecimalScore(1m));
        Assert.Matches(DrawAlgorithm.Score(), WinnerRules.DecimalScore(0.1234565m));
        Assert.Equal("42", WinnerRules.VotesScore(42));
    }

    private static DrawState Drawn()
    {
        var committed = WinnerRules.Commit(Configured(), new Eligibility(18, ["CH"]), new byte[32], Now).Value!;
        return WinnerRules.Drawn(committed, [new("p1".PadRight(64, '1'), "fan-1", null), new("p2".PadRight(64, '2'), "fan-2", null),
            new("p3".PadRight(64, '3'), "fan-3", null)], "sha", 3, false, [], 18, ["CH"], Now.AddDays(1));
    }

    [Fact]
    public void A_key_already_applied_replays_the_same_request_and_refuses_another_one()
    {
        var s = Drawn();
        var fp = WinnerRules.Fingerprint("promote", 1, "declined", null);
        Assert.Null(WinnerRules.Replay(s, "k1", fp));
        Assert.Null(WinnerRules.Replay(s, null, fp));
        var promoted = WinnerRules.Remember(WinnerRules.Promote(s, 1, "declined", null, TimeSpan.FromDays(14), Now.AddDays(1)).Value!, "k1", fp, Now.AddDays(1));
        Assert.Same(promoted, WinnerRules.Replay(promoted, "k1", fp)!.Value);
        Assert.Equal("idempotency_key_reused", WinnerRules.Replay(promoted, "k1", WinnerRules.Fingerprint("promote", 1, "ineligible", null))!.Code);
        Assert.NotEqual(fp, WinnerRules.Fingerprint("promote", 1, "declined", "a note"));
        Assert.Null(WinnerRules.Replay(promoted, "k2", fp));
        var many = Enumerable.Range(0, 60).Aggregate(promoted, (d, i) => WinnerRules.Remember(d, $"k-{i}", fp, Now));
        Assert.Equal(WinnerRules.KeptRequests, many.Requests!.Count);
        Assert.Equal("k-59", many.Requests[^1].Key);
    }

    [Fact]
    public void The_draw_and_each_promotion_record_their_notifications_and_only_the_sent_ones_leave_the_outbox()
    {
        var s = Drawn();
        Assert.Equal([(WinnerRules.SelectedEvent, 1, "fan-1")], s.Outbox!.Select(n => (n.Event, n.Position, n.FanId)));
        var sent = WinnerRules.Sent(s, s.Outbox!);
        Assert.Null(sent.Outbox);
        var promoted = WinnerRules.Promote(s, 1, "declined", null, TimeSpan.FromDays(14), Now.AddDays(1)).Value!;
        Assert.Equal([WinnerRules.SelectedEvent, WinnerRules.PromotedEvent], promoted.Outbox!.Select(n => n.Event));
        // The selection was queued while the promotion was being recorded: the promotion stays pending.
        var left = WinnerRules.Sent(promoted, s.Outbox!);
        Assert.Equal(("fan-2", 1), (left.Outbox!.Single().FanId, left.Outbox!.Single().Position));
    }
}
