using System.Globalization;
using System.Text;
using Campaigns.Judging;
using Campaigns.Platform;

namespace Campaigns.Moderation;

/// <summary>
/// Per-fan counts of votes cast, for the engaged-fan ranking. To be implemented by Voting (not yet in
/// Platform/Contracts.cs): counted, not invalidated votes whose instant lies in [from, to).
/// Without it votes cast count as zero and the response says so.
/// </summary>
public interface IFanVoteCounts
{
    Task<IReadOnlyDictionary<string, long>> VotesCastAsync(string campaignId, DateTimeOffset from, DateTimeOffset to, CancellationToken ct);
}

public static class EngagementRules
{
    public const double SubmissionWeight = 3, VoteWeight = 1, ReactionWeight = 0.5;

    public sealed record FanCounts(string FanId, int ApprovedEntries, long VotesCast, long ReactionsReceived, double? JuryQuality);

    public sealed record Row(int Rank, string FanId, int ApprovedEntries, long VotesCast, long ReactionsReceived, double InteractionRate,
        double? JuryQuality, double Score);

    /// <summary>
    /// rate = (3·approved entries + 1·votes cast + 0.5·reactions received) ÷ window days;
    /// score = (1 − q)·rate ÷ max rate + q·jury quality, q = the jury weight (0 without a jury round).
    /// Ties: SHA-256("{campaign}|engaged|{fan}") ascending.
    /// </summary>
    public static List<Row> Rank(string campaignId, IEnumerable<FanCounts> fans, double windowDays, double juryWeight)
    {
        var days = Math.Max(1, windowDays);
        var rated = fans.Select(f => (F: f, Rate: (SubmissionWeight * f.ApprovedEntries + VoteWeight * f.VotesCast + ReactionWeight * f.ReactionsReceived) / days))
            .Where(x => x.Rate > 0 || x.F.JuryQuality is not null).ToList();
        var max = rated.Select(x => x.Rate).DefaultIfEmpty(0).Max();
        return rated.Select(x => (x.F, x.Rate, Score: (1 - juryWeight) * (max == 0 ? 0 : x.Rate / max) + juryWeight * (x.F.JuryQuality ?? 0)))
            .OrderByDescending(x => Math.Round(x.Score, 9)).ThenBy(x => JudgingRules.HashKey(campaignId, "engaged", x.F.FanId), StringComparer.Ordinal)
            .Select((x, i) => new Row(i + 1, x.F.FanId, x.F.ApprovedEntries, x.F.VotesCast, x.F.ReactionsReceived, Math.Round(x.Rate, 6),
                x.F.JuryQuality, Math.Round(x.Score, 6))).ToList();
    }

    public static string Csv(IEnumerable<Row> rows)
    {
        var sb = new StringBuilder("rank,fanId,approvedEntries,votesCast,reactionsReceived,interactionRate,juryQuality,score\n");
        foreach (var r in rows)
            sb.Append(r.Rank).Append(',').Append(Field(r.FanId)).Append(',').Append(r.ApprovedEntries).Append(',').Append(r.VotesCast).Append(',')
              .Append(r.ReactionsReceived).Append(',').Append(r.InteractionRate.ToString("0.######", CultureInfo.InvariantCulture)).Append(',')
              .Append(r.JuryQuality?.ToString("0.######", CultureInfo.InvariantCulture) ?? "").Append(',')
              .Append(r.Score.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    // Quote every text field; a leading formula character is neutralised so spreadsheets do not execute it.
    private static string Field(string s)
    {
        if (s.Length > 0 && s[0] is '=' or '+' or '-' or '@' or '\t' or '\r') s = "'" + s;
        return "\"" + s.Replace("\"", "\"\"") + "\"";
    }
}

public sealed class EngagementRanking(ModerationStore moderation, JudgingService judging, IServiceProvider services)
{
    public sealed record Report(DateTimeOffset From, DateTimeOffset To, string Formula, string[] Unavailable, List<EngagementRules.Row> Fans);

    public async Task<(Report? Report, Refusal? Refused)> RankAsync(string campaignId, DateTimeOffset from, DateTimeOffset to, string? voteRound,
        string? juryRound, double juryWeight, CancellationToken ct)
    {
        var unavailable = new List<string>();
        var entries = new Dictionary<string, int>();
        var owners = new Dictionary<string, string>();
        if (services.GetService<IEntryDirectory>() is { } directory)
        {
            await foreach (var e in directory.ApprovedAsync(campaignId, ct))
            {
                owners[e.EntryId] = e.OwnerFanId;
                if (e.SubmittedAt >= from && e.SubmittedAt < to) entries[e.OwnerFanId] = entries.GetValueOrDefault(e.OwnerFanId) + 1;
            }
        }
        else
        {
            unavailable.Add("entryDirectory: approved entries counted from moderation decisions");
            foreach (var (i, _) in await moderation.AllAsync(campaignId, ct))
            {
                if (i.Status != ReviewStatus.Approved || i.Hidden) continue;
                owners[i.EntryId] = i.OwnerFanId;
                if (i.SubmittedAt >= from && i.SubmittedAt < to) entries[i.OwnerFanId] = entries.GetValueOrDefault(i.OwnerFanId) + 1;
            }
        }

        IReadOnlyDictionary<string, long> votes = new Dictionary<string, long>();
        if (services.GetService<IFanVoteCounts>() is { } counts) votes = await counts.VotesCastAsync(campaignId, from, to, ct);
        else unavailable.Add("votesCast: no vote counts in this deployment");

        var reactions = new Dictionary<string, long>();
        if (voteRound is not null)
        {
            if (services.GetService<IRevealedResults>() is not { } revealed || await revealed.GetRevealedAsync(campaignId, voteRound, ct) is not { } tally)
                return (null, new(409, "votes_not_revealed", "The public vote of this round is not revealed yet."));
            foreach (var c in tally.Counts.Where(c => c.CategoryId == RevealedTally.EntriesCategory))
                if (owners.TryGetValue(c.OptionId, out var owner)) reactions[owner] = reactions.GetValueOrDefault(owner) + c.Count;
        }

        var quality = new Dictionary<string, double>();
        if (juryRound is not null)
        {
            var (results, refused) = await judging.ResultsAsync(campaignId, juryRound, ct);
            if (refused is not null) return (null, refused);
            foreach (var e in results!.Entries.Where(e => e.Quality is not null && e.OwnerFanId is not null))
                quality[e.OwnerFanId!] = Math.Max(quality.GetValueOrDefault(e.OwnerFanId!), e.Quality!.Value);
        }

        var blocked = (await moderation.BlocksAsync(campaignId, ct)).Select(b => b.FanId).ToHashSet();
        var fans = entries.Keys.Concat(votes.Keys).Concat(reactions.Keys).Concat(quality.Keys).Distinct().Where(f => !blocked.Contains(f))
            .Select(f => new EngagementRules.FanCounts(f, entries.GetValueOrDefault(f), votes.GetValueOrDefault(f), reactions.GetValueOrDefault(f),
                juryRound is null ? null : quality.GetValueOrDefault(f)));
        var rows = EngagementRules.Rank(campaignId, fans, (to - from).TotalDays, juryRound is null ? 0 : juryWeight);
        return (new Report(from, to,
            FormattableString.Invariant($"rate = (3 × approved entries + 1 × votes cast + 0.5 × reactions received) ÷ days; score = {(juryRound is null ? 0 : juryWeight):0.###} × jury quality + {1 - (juryRound is null ? 0 : juryWeight):0.###} × rate ÷ max rate"),
            unavailable.ToArray(), rows), null);
    }
}

public static class EngagementApi
{
    public static async Task<IResult> Handle(string campaignId, DateTimeOffset? from, DateTimeOffset? to, string? voteRound, string? juryRound,
        double? juryWeight, string? format, int? limit, EngagementRanking ranking, CancellationToken ct)
    {
        if (from is null || to is null || to <= from || (to - from).Value.TotalDays > 366)
            return ApiProblem.Validation("from", "Give from < to (ISO 8601 instants), at most a year apart.").ToResult();
        if (juryWeight is < 0 or > 1 || (juryWeight is not null && juryRound is null))
            return ApiProblem.Validation("juryWeight", "Between 0 and 1, with juryRound.").ToResult();
        if (juryRound is not null && !JudgingRules.IdPattern().IsMatch(juryRound)) return ApiProblem.Validation("juryRound", "Not a round id.").ToResult();
        if (voteRound is { Length: 0 or > 64 }) return ApiProblem.Validation("voteRound", "Not a round id.").ToResult();
        if (format is not (null or "json" or "csv")) return ApiProblem.Validation("format", "Use json or csv.").ToResult();
        var (report, refused) = await ranking.RankAsync(campaignId, from.Value, to.Value, voteRound, juryRound, juryWeight ?? 0.5, ct);
        if (refused is not null) return refused.Problem().ToResult();
        var rows = report!.Fans.Take(Math.Clamp(limit ?? 500, 1, 10_000)).ToList();
        if (format == "csv")
            return Results.File(Encoding.UTF8.GetBytes(EngagementRules.Csv(rows)), "text/csv; charset=utf-8", $"engaged-fans-{campaignId}.csv");
        return Results.Ok(report with { Fans = rows });
    }
}
