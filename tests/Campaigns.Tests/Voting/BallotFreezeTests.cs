using Campaigns.Campaigns;
using Campaigns.Voting;

namespace Campaigns.Tests.Voting;

/// <summary>The freeze as a pure function of (stored ballot, candidate, campaign, now): no storage, no clock.</summary>
public sealed class BallotFreezeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Opens = T0, Closes = T0.AddDays(7), Reveal = T0.AddDays(8);

    private static Campaign CampaignWith(TimeWindow? voting = null, DateTimeOffset? reveal = null) => new("c-1", "n", "b", "Europe/Berlin", ["en"],
        [CampaignFeature.Voting], new CampaignWindows(Voting: voting, Reveal: reveal), new Eligibility(), null, null, CampaignStatus.Published, default, default);

    private static readonly Campaign Plain = CampaignWith();

    private static CategoryDef Colour(params string[] options) => new("colour", new() { ["en"] = "Colour" }, options.Select(o => new OptionDef(o, new() { ["en"] = o })).ToArray());

    private static Round R(string id = "r1", CategoryDef[]? categories = null, DateTimeOffset? opens = null, DateTimeOffset? closes = null,
        DateTimeOffset? reveal = null, bool defaults = false)
        => new(id, new() { ["en"] = id }, RoundKind.Ballot, categories ?? [Colour("red", "blue")], null,
            defaults ? null : opens ?? Opens, defaults ? null : closes ?? Closes, defaults ? null : reveal ?? Reveal, 4);

    private static Ballot B(params Round[] rounds) => new("c-1", VoteMode.FirstIsFinal, TallyVisibility.Admins, false, rounds, T0);

    private static string[] Refused(Ballot current, Ballot next, DateTimeOffset now, Campaign? campaign = null)
    {
        var (ballot, problem) = BallotFreeze.Decide(current, next, campaign ?? Plain, "mkt-1", now);
        Assert.True(problem is not null, "the change was accepted");
        Assert.Null(ballot);
        Assert.Equal((409, BallotFreeze.Code), (problem!.Status, problem.Code));
        foreach (var field in problem.Errors!.Keys) Assert.Contains(field, problem.Detail);
        return problem.Errors.Keys.Order().ToArray();
    }

    private static Ballot Accepted(Ballot current, Ballot next, DateTimeOffset now, Campaign? campaign = null)
    {
        var (ballot, problem) = BallotFreeze.Decide(current, next, campaign ?? Plain, "mkt-1", now);
        Assert.True(problem is null, problem?.Detail);
        return ballot!;
    }

    [Fact]
    public void A_round_not_yet_open_stays_fully_editable()
    {
        var before = T0.AddSeconds(-1);
        var stored = B(R(), R("r2"));
        var edited = B(R(categories: [Colour("green", "pink", "grey")], opens: T0.AddHours(1), closes: T0.AddDays(1), reveal: T0.AddDays(1)))
            with
        { Mode = VoteMode.LastWins, Tally = TallyVisibility.Nobody };
        Assert.Empty(Accepted(stored, edited, before).Audit ?? []);
    }

    [Fact]
    public void Once_open_a_rounds_shape_start_mode_sealing_and_existence_are_frozen()
    {
        var stored = B(R(), R("r2", opens: T0.AddDays(3)));
        var now = T0.AddMinutes(1);
        Assert.Equal(["rounds[0].categories"], Refused(stored, B(R(categories: [Colour("red", "blue", "green")]), R("r2", opens: T0.AddDays(3))), now));
        Assert.Equal(["rounds[0].categories"], Refused(stored, B(R(categories: [Colour("blue", "red")]), R("r2", opens: T0.AddDays(3))), now));
        var relabelled = new CategoryDef("colour", new() { ["en"] = "Colour" }, [new("red", new() { ["en"] = "blue" }), new("blue", new() { ["en"] = "red" })]);
        Assert.Equal(["rounds[0].categories"], Refused(stored, B(R(categories: [relabelled]), R("r2", opens: T0.AddDays(3))), now));
        Assert.Equal(["rounds[0].opens"], Refused(stored, B(R(opens: T0.AddMinutes(-5)), R("r2", opens: T0.AddDays(3))), now));
        Assert.Equal(["mode"], Refused(stored, stored with { Mode = VoteMode.LastWins }, now));
        Assert.Equal(["tally"], Refused(stored, stored with { Tally = TallyVisibility.Nobody }, now));
        Assert.Equal(["rounds"], Refused(stored, B(R("r2", opens: T0.AddDays(3))), now));
        // The round that has not opened is still free, and the title of an open one is only a label.
        var retitled = R() with { Title = new() { ["en"] = "Grand final" } };
        Accepted(stored, B(retitled, R("r2", categories: [Colour("a", "b")], opens: T0.AddDays(2))), now);
    }

    [Fact]
    public void An_open_rounds_close_only_moves_later_and_each_extension_is_recorded()
    {
        var stored = B(R());
        var now = T0.AddDays(1);
        Assert.Equal(["rounds[0].closes"], Refused(stored, B(R(closes: Closes.AddSeconds(-1))), now));
        // The finding: close now and reveal in a few seconds.
        Assert.Equal(["rounds[0].closes", "rounds[0].reveal"], Refused(stored, B(R(closes: now.AddMinutes(-1), reveal: now.AddSeconds(5))), now));

        var once = Accepted(stored, B(R(closes: Closes.AddDays(1), reveal: Reveal.AddDays(1))), now);
        var twice = Accepted(once, B(R(closes: Closes.AddDays(2), reveal: Reveal.AddDays(2))), now.AddHours(1));
        Assert.Equal(
            [
                new BallotAuditEntry(BallotAuditEntry.CloseExtended, "r1", "mkt-1", now, Closes, Closes.AddDays(1)),
                new BallotAuditEntry(BallotAuditEntry.RevealPostponed, "r1", "mkt-1", now, Reveal, Reveal.AddDays(1)),
                new BallotAuditEntry(BallotAuditEntry.CloseExtended, "r1", "mkt-1", now.AddHours(1), Closes.AddDays(1), Closes.AddDays(2)),
                new BallotAuditEntry(BallotAuditEntry.RevealPostponed, "r1", "mkt-1", now.AddHours(1), Reveal.AddDays(1), Reveal.AddDays(2)),
            ],
            twice.Audit!);
        // Saving the same again records nothing new.
        Assert.Equal(4, Accepted(twice, twice with { Audit = null }, now.AddHours(2)).Audit!.Length);
        // After the close has passed the window is history: not even an extension reopens it.
        Assert.Equal(["rounds[0].closes"], Refused(stored, B(R(closes: Closes.AddDays(1), reveal: Reveal.AddDays(1))), Closes));
    }

    [Fact]
    public void The_reveal_never_moves_earlier_nor_before_the_close()
    {
        var stored = B(R());
        var now = T0.AddDays(1);
        Assert.Equal(["rounds[0].reveal"], Refused(stored, B(R(reveal: Reveal.AddSeconds(-1))), now));
        Assert.Equal(["rounds[0].reveal"], Refused(stored, B(R(reveal: null) with { Reveal = null }), now));
        // Extending the close past the reveal needs the reveal moved too.
        Assert.Equal(["rounds[0].reveal"], Refused(stored, B(R(closes: Reveal.AddDays(1))), now));
        Accepted(stored, B(R(closes: Reveal.AddDays(1), reveal: Reveal.AddDays(1))), now);
        // A round revealed by hand (no instant) may get one, not before its close.
        var manual = B(R(reveal: null) with { Reveal = null });
        Assert.Equal(["rounds[0].reveal"], Refused(manual, B(R(reveal: Closes.AddSeconds(-1))), now));
        Accepted(manual, B(R(reveal: Closes)), now);
    }

    [Fact]
    public void Rounds_that_take_the_campaigns_window_are_judged_on_the_effective_instants()
    {
        var campaign = CampaignWith(new TimeWindow(Opens, Closes), Reveal);
        var stored = B(R(defaults: true));
        var now = T0.AddDays(1);
        // The same instants written out are no change; an earlier close written out is.
        Assert.Empty(Accepted(stored, B(R()), now, campaign).Audit ?? []);
        Assert.Equal(["rounds[0].closes", "rounds[0].reveal"], Refused(stored, B(R(closes: now, reveal: now.AddSeconds(5))), now, campaign));
        // A campaign edit is checked the same way against the ballot (for the campaign's own update rule).
        var earlier = CampaignWith(new TimeWindow(Opens, now), now.AddSeconds(5));
        var (_, problem) = BallotFreeze.Decide(stored, stored, campaign, earlier, "mkt-1", now);
        Assert.Equal(BallotFreeze.Code, problem?.Code);
        Assert.Null(BallotFreeze.Decide(stored, stored, campaign, CampaignWith(new TimeWindow(Opens, Closes.AddDays(1)), Reveal.AddDays(1)), "mkt-1", now).Refused);
    }
}
