using Campaigns.Campaigns;
using Campaigns.Platform;

namespace Campaigns.Voting;

/// <summary>
/// What fans rely on freezes when a round opens: once they can vote, the options they pick from, the rules their vote
/// is counted by (mode), who may watch the counts (sealing) and the window they were promised no longer change, and
/// the round cannot disappear. Otherwise an edit could move the close into the past and the reveal a few seconds
/// ahead, publishing a signed snapshot weeks early. The one exception is more time to vote: the close may move later
/// while the round is open, and each such change is kept in the ballot's audit. The reveal never moves earlier than
/// the instant fans were given, nor before the close. Rounds not yet open stay fully editable.
/// </summary>
public static class BallotFreeze
{
    public const string Code = "round_frozen";

    /// <summary>A ballot edit: the stored ballot against the candidate, under one campaign.</summary>
    public static (Ballot? Ballot, ApiProblem? Refused) Decide(Ballot? current, Ballot next, Campaign campaign, string actor, DateTimeOffset now)
        => Decide(current, next, campaign, campaign, actor, now);

    /// <summary>
    /// The ballot to store (the stored audit plus entries for the allowed changes), or a 409 naming every frozen field
    /// changed. Rounds without their own times take the campaign's, so an edit of the campaign's windows is judged by
    /// the same rule: <c>Decide(ballot, ballot, campaignBefore, campaignAfter, …)</c>.
    /// </summary>
    public static (Ballot? Ballot, ApiProblem? Refused) Decide(Ballot? current, Ballot next, Campaign before, Campaign after, string actor, DateTimeOffset now)
    {
        if (current is null) return (next with { Audit = null }, null);
        var errors = new Dictionary<string, string[]>();
        var audit = new List<BallotAuditEntry>(current.Audit ?? []);
        var opened = current.Rounds.Where(r => VoteRules.Window(r, before) is { } w && now >= w.Start).ToList();
        if (opened.Count > 0)
        {
            var first = opened[0].Id;
            if (next.Mode != current.Mode) errors["mode"] = [$"Round '{first}' has opened: votes are being counted as '{current.Mode}'."];
            if (next.Tally != current.Tally) errors["tally"] = [$"Round '{first}' has opened: who sees live counts was promised as '{current.Tally}'."];
        }
        foreach (var old in opened)
        {
            var i = Array.FindIndex(next.Rounds, r => r.Id == old.Id);
            if (i < 0)
            {
                errors["rounds"] = [.. errors.GetValueOrDefault("rounds") ?? [], $"Round '{old.Id}' has opened and cannot be removed."];
                continue;
            }
            var p = $"rounds[{i}]";
            var round = next.Rounds[i];
            if (round.Kind != old.Kind) errors[$"{p}.kind"] = ["The round has opened: its kind cannot change."];
            if (Shape(round.Categories) != Shape(old.Categories)) errors[$"{p}.categories"] = ["The round has opened: its categories and options cannot change."];
            if (round.Budget != old.Budget) errors[$"{p}.budget"] = ["The round has opened: its budget cannot change."];

            var was = VoteRules.Window(old, before)!;
            var window = VoteRules.Window(round, after);
            if (window is null || window.Start != was.Start) errors[$"{p}.opens"] = [$"The round opened at {was.Start:O}; that cannot change."];
            else if (window.End < was.End) errors[$"{p}.closes"] = [$"The round is open until {was.End:O}; its close can only move later."];
            else if (window.End > was.End && now >= was.End) errors[$"{p}.closes"] = [$"The round closed at {was.End:O}; it cannot be reopened."];
            else if (window.End > was.End) audit.Add(new(BallotAuditEntry.CloseExtended, old.Id, actor, now, was.End, window.End));

            var revealWas = VoteRules.RevealAt(old, before);
            var reveal = VoteRules.RevealAt(round, after);
            if (revealWas is { } r0 && (reveal is null || reveal < r0)) errors[$"{p}.reveal"] = [$"Results were announced for {r0:O}; the reveal can only move later."];
            else if (reveal is { } r1 && window is not null && r1 < window.End) errors[$"{p}.reveal"] = [$"The reveal cannot come before the close ({window.End:O})."];
            else if (reveal != revealWas) audit.Add(new(BallotAuditEntry.RevealPostponed, old.Id, actor, now, revealWas, reveal));
        }
        if (errors.Count > 0)
        {
            var changed = string.Join(" ", errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
            return (null, new ApiProblem(409, Code, "A round that has opened is frozen.",
                $"{changed} Only a later close and a later reveal are allowed.", errors));
        }
        return (next with { Audit = audit.Count == 0 ? null : [.. audit] }, null);
    }

    /// <summary>What fans picked from: ids, labels and images in their order (a relabelled option is another option).</summary>
    private static string Shape(CategoryDef[] categories)
        => string.Join("\n", categories.Select(c => $"{c.Id}|{Labels(c.Label)}|" +
            string.Join(";", c.Options.Select(o => $"{o.Id}|{Labels(o.Label)}|{o.Image}"))));

    private static string Labels(Dictionary<string, string> labels)
        => string.Join(",", labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
}
