using Campaigns.Voting;
using NodaTime;

namespace Campaigns.Tests.Voting;

public sealed class VoteRulesTests
{
    private static readonly Round Ballot = new("r1", new() { ["en"] = "R" }, RoundKind.Ballot,
        [new CategoryDef("colour", new() { ["en"] = "C" }, [new("red", new()), new("blue", new())]),
         new CategoryDef("wheels", new() { ["en"] = "W" }, [new("sport", new()), new("classic", new())])], null, null, null, null, 4);

    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static VoteItem V(string id, DateTimeOffset at, params (string C, string O)[] choices)
        => new(id, "c", "r1", "fan", at, 0, choices.ToDictionary(x => x.C, x => x.O));

    private static Dictionary<string, long> Sum(params VoteDecision[] ds)
    {
        var m = new Dictionary<string, long>();
        foreach (var d in ds) foreach (var x in d.Deltas) m[x.RowKey] = m.GetValueOrDefault(x.RowKey) + x.Delta;
        return m.Where(kv => kv.Value != 0).ToDictionary();
    }

    [Fact]
    public void Last_vote_wins_moves_counts_exactly_and_ignores_redelivered_or_older_votes()
    {
        var first = VoteRules.Apply(null, V("v1", T0, ("colour", "red"), ("wheels", "sport")), VoteMode.LastWins, Ballot);
        var second = VoteRules.Apply(first.Next, V("v2", T0.AddMinutes(1), ("colour", "blue")), VoteMode.LastWins, Ballot);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("colour", "blue")] = 1, [VoteRules.CountRow("wheels", "sport")] = 1, [VoteRules.TotalRow] = 1 },
            Sum(first, second));
        Assert.Equal("sport", second.Next!.Choices["wheels"]); // a partial ballot changes only the categories it names
        Assert.True(VoteRules.Apply(second.Next, V("v2", T0.AddMinutes(1), ("colour", "blue")), VoteMode.LastWins, Ballot).Skip);
        Assert.True(VoteRules.Apply(second.Next, V("v1", T0, ("colour", "red")), VoteMode.LastWins, Ballot).Skip);
    }

    [Fact]
    public void First_vote_is_final_refuses_a_different_vote_as_duplicate_but_a_retry_of_the_same_vote_is_a_no_op()
    {
        var first = VoteRules.Apply(null, V("v1", T0, ("colour", "red")), VoteMode.FirstIsFinal, Ballot);
        var retry = VoteRules.Apply(first.Next, V("v1", T0.AddSeconds(3), ("colour", "red")), VoteMode.FirstIsFinal, Ballot);
        var other = VoteRules.Apply(first.Next, V("v2", T0.AddSeconds(5), ("colour", "blue")), VoteMode.FirstIsFinal, Ballot);
        Assert.True(retry.Skip);
        Assert.Equal(RefusalReasons.Duplicate, other.Refusal);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.ReasonRow("duplicate")] = 1 }, Sum(other));
    }

    [Fact]
    public void Invalidation_and_restore_cancel_out_exactly_and_are_idempotent()
    {
        var counted = VoteRules.Apply(null, V("v1", T0, ("colour", "red"), ("wheels", "classic")), VoteMode.LastWins, Ballot);
        var inv = VoteRules.Invalidate(counted.Next, "bot ring", "admin-1", T0);
        Assert.True(VoteRules.Invalidate(inv.Next, "again", "admin-1", T0).Skip);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.ReasonRow("invalidated")] = 1 }, Sum(counted, inv).Where(kv => kv.Key.StartsWith("n|r|")).ToDictionary());
        Assert.Equal(-1, Sum(inv)[VoteRules.CountRow("colour", "red")]);
        // A new vote while invalidated moves nothing; the restore then counts the latest choices.
        var later = VoteRules.Apply(inv.Next, V("v2", T0.AddMinutes(1), ("colour", "blue")), VoteMode.LastWins, Ballot);
        Assert.Empty(later.Deltas);
        var restored = VoteRules.Restore(later.Next, "admin-1", T0);
        Assert.True(VoteRules.Restore(restored.Next, "admin-1", T0).Skip);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("colour", "blue")] = 1, [VoteRules.CountRow("wheels", "classic")] = 1, [VoteRules.TotalRow] = 1 },
            Sum(counted, inv, later, restored));
    }

    [Fact]
    public void Fraud_and_moderation_holds_are_separate_ledgers_and_the_counts_follow_both_exactly()
    {
        var counted = VoteRules.Apply(null, V("v1", T0, ("colour", "red")), VoteMode.LastWins, Ballot);
        var inv = VoteRules.Invalidate(counted.Next, "vote ring", "admin-1", T0.AddMinutes(1));
        var sus = VoteRules.Suspend(inv.Next, "abuse", "mod-1", T0.AddMinutes(2));
        Assert.True(VoteRules.Suspend(sus.Next, "again", "mod-1", T0).Skip);
        var lifted = VoteRules.Lift(sus.Next, "mod-1", T0.AddMinutes(3));
        Assert.True(VoteRules.Lift(lifted.Next, "mod-1", T0).Skip);
        // The unblock lifted only its own hold: the fraud invalidation stands and nothing is counted.
        Assert.False(lifted.Next!.Counted);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.ReasonRow("invalidated")] = 1 }, Sum(counted, inv, sus, lifted).Where(kv => kv.Value != 0).ToDictionary());
        // The other order: suspended first, then invalidated; the restore leaves the suspension.
        var sus2 = VoteRules.Suspend(lifted.Next, "abuse", "mod-1", T0.AddMinutes(4));
        var restored = VoteRules.Restore(sus2.Next, "admin-1", T0.AddMinutes(5));
        Assert.False(restored.Next!.Counted);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.ReasonRow("suspended")] = 1 },
            Sum(counted, inv, sus, lifted, sus2, restored).Where(kv => kv.Value != 0).ToDictionary());
        var free = VoteRules.Lift(restored.Next, "mod-2", T0.AddMinutes(6));
        Assert.True(free.Next!.Counted);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("colour", "red")] = 1, [VoteRules.TotalRow] = 1 },
            Sum(counted, inv, sus, lifted, sus2, restored, free).Where(kv => kv.Value != 0).ToDictionary());
        Assert.Equal(
            [
                (HoldLedger.Fraud, "hold", "admin-1", "vote ring"), (HoldLedger.Moderation, "hold", "mod-1", "abuse"), (HoldLedger.Moderation, "lift", "mod-1", null),
                (HoldLedger.Moderation, "hold", "mod-1", "abuse"), (HoldLedger.Fraud, "lift", "admin-1", null), (HoldLedger.Moderation, "lift", "mod-2", null),
            ],
            free.Next.Ledger!.Select(e => (e.Ledger, e.Action, e.Actor, e.Reason)));
    }

    [Fact]
    public void Entry_votes_arriving_while_held_are_counted_under_the_hold_so_lifting_it_stays_exact()
    {
        var round = new Round("e", new() { ["en"] = "E" }, RoundKind.Entries, [], null, null, null, null, 4);
        VoteItem E(string id, string entry) => new(id, "c", "e", "fan", T0, 0, new() { ["entries"] = entry });
        var a = VoteRules.Apply(null, E("v1", "e1"), VoteMode.FirstIsFinal, round);
        var held = VoteRules.Suspend(a.Next, "abuse", "mod-1", T0);
        var b = VoteRules.Apply(held.Next, E("v2", "e2"), VoteMode.FirstIsFinal, round);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.ReasonRow("suspended")] = 1 }, Sum(b));
        var lifted = VoteRules.Lift(b.Next, "mod-1", T0);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("entries", "e1")] = 1, [VoteRules.CountRow("entries", "e2")] = 1, [VoteRules.TotalRow] = 1 },
            Sum(a, held, b, lifted).Where(kv => kv.Value != 0).ToDictionary());
    }

    [Fact]
    public void Entry_budget_counts_distinct_entries_and_refuses_beyond_it()
    {
        var round = new Round("e", new() { ["en"] = "E" }, RoundKind.Entries, [], new EntryBudget(MaxEntries: 2), null, null, null, 4);
        VoteItem E(string id, string entry) => new(id, "c", "e", "fan", T0, 0, new() { ["entries"] = entry });
        var a = VoteRules.Apply(null, E("v1", "e1"), VoteMode.FirstIsFinal, round);
        var b = VoteRules.Apply(a.Next, E("v2", "e2"), VoteMode.FirstIsFinal, round);
        var c = VoteRules.Apply(b.Next, E("v3", "e3"), VoteMode.FirstIsFinal, round);
        var again = VoteRules.Apply(b.Next, E("v1", "e1"), VoteMode.FirstIsFinal, round);
        Assert.Equal(RefusalReasons.BudgetExhausted, c.Refusal);
        Assert.True(again.Skip);
        Assert.Equal(2, b.Next!.VoteCount);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("entries", "e1")] = 1, [VoteRules.CountRow("entries", "e2")] = 1, [VoteRules.TotalRow] = 1 }, Sum(a, b));
    }

    [Fact]
    public void Once_per_entry_per_day_allows_the_same_entry_again_on_the_next_local_day_only()
    {
        var round = new Round("e", new() { ["en"] = "E" }, RoundKind.Entries, [], new EntryBudget(OncePerEntryPerDay: true), null, null, null, 4);
        VoteItem E(string id, string day) => new(id, "c", "e", "fan", T0, 0, new() { ["entries"] = "e1" }, Day: day);
        var monday = VoteRules.Apply(null, E("v1", "2026-11-02"), VoteMode.FirstIsFinal, round);
        var again = VoteRules.Apply(monday.Next, E("v2", "2026-11-02"), VoteMode.FirstIsFinal, round);
        var tuesday = VoteRules.Apply(monday.Next, E("v3", "2026-11-03"), VoteMode.FirstIsFinal, round);
        Assert.Equal(RefusalReasons.Duplicate, again.Refusal);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("entries", "e1")] = 2, [VoteRules.TotalRow] = 1 }, Sum(monday, tuesday));
        Assert.Equal(2, tuesday.Next!.VoteCount);
        Assert.Equal(new Dictionary<string, long> { [VoteRules.CountRow("entries", "e1")] = -2, [VoteRules.TotalRow] = -1, [VoteRules.ReasonRow("invalidated")] = 2 },
            Sum(VoteRules.Invalidate(tuesday.Next, "n", "a", T0)));
    }

    [Fact]
    public void Local_window_edges_on_dst_change_days_resolve_by_the_documented_policy()
    {
        var berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        // Autumn: 02:30 happens twice; the earlier instant (CEST, +02:00) is used.
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), VoteRules.ResolveLocal("2026-10-25T02:30:00", berlin));
        // Spring: 02:30 does not exist; the first instant after the gap (03:00 CEST) is used.
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), VoteRules.ResolveLocal("2026-03-29T02:30:00", berlin));
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 1, 30, 0, TimeSpan.Zero), VoteRules.ResolveLocal("2026-10-25T02:30:00+01:00", berlin));
        Assert.Throws<FormatException>(() => VoteRules.ResolveLocal("next tuesday", berlin));
    }

    [Fact]
    public void Choices_are_checked_against_the_round()
    {
        Assert.Equal("two_options_in_category", VoteRules.CheckChoices(Ballot, [new("colour", "red"), new("colour", "blue")]).Code);
        Assert.Equal("unknown_category", VoteRules.CheckChoices(Ballot, [new("roof", "red")]).Code);
        Assert.Equal("unknown_option", VoteRules.CheckChoices(Ballot, [new("colour", "pink")]).Code);
        Assert.Equal("no_choices", VoteRules.CheckChoices(Ballot, []).Code);
        Assert.Equal(2, VoteRules.CheckChoices(Ballot, [new("colour", "red"), new("wheels", "sport")]).Choices!.Count);
    }

    [Fact]
    public void Vote_ids_are_stable_for_retries_and_shards_are_stable_across_processes()
    {
        Assert.Equal(VoteRules.VoteId("c", "r", "f", "k1", "x"), VoteRules.VoteId("c", "r", "f", "k1", "y"));
        Assert.NotEqual(VoteRules.VoteId("c", "r", "f", "k1", "x"), VoteRules.VoteId("c", "r", "f", "k2", "x"));
        Assert.NotEqual(VoteRules.VoteId("c", "r", "f", null, "colour=red"), VoteRules.VoteId("c", "r", "g", null, "colour=red"));
        Assert.Equal(0, VoteRules.Shard("fan-1", 4)); // FNV-1a is fixed: a change here would move fans between shards
        Assert.InRange(Enumerable.Range(0, 4000).Select(i => VoteRules.Shard("fan-" + i, 4)).GroupBy(x => x).Min(g => g.Count()), 800, 1200);
    }
}
