using System.Collections.Concurrent;
using System.Security.Cryptography;
using Campaigns.Campaigns;
using Campaigns.Fans;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Winners;

/// <summary>Test seam: empty in production. Tests throw from a hook to stop the process between two steps.</summary>
public sealed class WinnersFaults
{
    /// <summary>Called right after a draw's result is saved, before its notifications are sent.</summary>
    public Func<DrawState, Task>? AfterDrawCommit { get; set; }
}

/// <summary>
/// Runs a draw: checks it may run, freezes the eligible list (pseudonymous, canonical), stores it, derives the
/// winners from the committed seed, saves the result once (ETag) and queues the winner notifications.
/// </summary>
public sealed class DrawRunner(DrawStore store, CampaignStore campaigns, IFanProfiles fans, IServiceProvider services,
    WinnerNotifier notifier, WinnersFaults faults, IOptions<WinnersOptions> options, TimeProvider time)
{
    private sealed record Candidate(string FanId, string? EntryId, string? Score);

    public const string RunOperation = "run";

    public async Task<DrawState> RunAsync(string campaignId, string drawId, string? idempotencyKey, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await store.GetAsync(campaignId, drawId, ct) is not { } found) throw Problem(ApiProblem.NotFound("draw_not_found", "The draw"));
        var (state, etag) = found;
        if (WinnerRules.CanDraw(state, now) is { } refused) throw Problem(new ApiProblem(refused.Status, refused.Code!, "The draw cannot run.", refused.Detail));
        if ((await campaigns.GetAsync(campaignId, ct))?.Campaign is not { } campaign) throw Problem(ApiProblem.NotFound("campaign_not_found", "The campaign"));

        var candidates = await CandidatesAsync(state, ct);
        var excluded = new ConcurrentDictionary<string, int>();
        var eligibility = WinnerRules.EligibilityOf(state, campaign);
        var eligible = await FilterAsync(state, campaign, eligibility, candidates, excluded, now, ct);
        if (eligible.Count == 0)
            throw Problem(new ApiProblem(422, "no_eligible_entrants", "Nobody is eligible for this draw.",
                $"{candidates.Count} candidate(s), none passes the filters."));

        var key = options.Value.PseudonymKeyBytes;
        var byPid = eligible.ToDictionary(c => DrawAlgorithm.Pseudonym(key, campaignId, c.FanId));
        var lines = byPid.Select(kv => new DrawAlgorithm.ListLine(kv.Key, kv.Value.Score)).OrderBy(l => l.Id, StringComparer.Ordinal).ToList();
        var bytes = DrawAlgorithm.WriteList(lines);
        var sha = DrawAlgorithm.Sha256Hex(bytes);
        await store.PutListAsync(campaignId, drawId, sha, bytes, ct);

        var seed = Convert.FromHexString(state.SeedHex!);
        var picked = DrawAlgorithm.Select(seed, campaignId, drawId, sha, state.External?.Value, lines, state.Winners + state.Alternates);
        var selected = picked.Select(pid => new SelectedCandidate(pid, byPid[pid].FanId, byPid[pid].EntryId)).ToList();
        var drawn = WinnerRules.Remember(WinnerRules.Drawn(state, selected, sha, lines.Count, lines[0].Score is not null,
            new Dictionary<string, int>(excluded.OrderBy(kv => kv.Key, StringComparer.Ordinal)), eligibility.MinAge, eligibility.Countries, now),
            idempotencyKey, WinnerRules.Fingerprint(RunOperation), now);
        try
        {
            await store.SaveAsync(drawn, etag, ct);
        }
        catch (ProblemException)
        {
            throw Problem(ApiProblem.Conflict("already_drawn", "This draw was made at the same time by another request; a draw is never re-run."));
        }
        if (faults.AfterDrawCommit is { } fault) await fault(drawn);
        await notifier.FlushAsync(campaignId, drawId, ct);
        return drawn;
    }

    private async Task<List<Candidate>> CandidatesAsync(DrawState s, CancellationToken ct)
    {
        var c = s.CampaignId;
        if (s.Method == DrawMethod.Random && s.Pool == DrawPool.Voters)
        {
            var voters = Need<IVoterDirectory>("voting_unavailable", "Voting");
            var set = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var fan in voters.CountedVotersAsync(c, ct)) set.Add(fan);
            return set.Select(f => new Candidate(f, null, null)).ToList();
        }
        var entries = Need<IEntryDirectory>("submissions_unavailable", "Submissions");
        var approved = new Dictionary<string, EntryInfo>(StringComparer.Ordinal);
        await foreach (var e in entries.ApprovedAsync(c, ct)) approved[e.EntryId] = e;
        if (s.Method == DrawMethod.Random)
            return approved.Values.Select(e => e.OwnerFanId).Distinct(StringComparer.Ordinal).Select(f => new Candidate(f, null, null)).ToList();

        Dictionary<string, long>? votes = null;
        Dictionary<string, decimal>? jury = null;
        if (s.Method is DrawMethod.TopVotes or DrawMethod.Hybrid)
        {
            var results = Need<IRevealedResults>("voting_unavailable", "Voting");
            var tally = await results.GetRevealedAsync(c, s.RoundId!, ct)
                ?? throw Problem(ApiProblem.Conflict("results_not_revealed", $"Voting round '{s.RoundId}' has not been revealed."));
            votes = tally.Counts.Where(x => x.CategoryId == RevealedTally.EntriesCategory)
                .GroupBy(x => x.OptionId).ToDictionary(g => g.Key, g => g.Sum(x => x.Count));
        }
        if (s.Method is DrawMethod.Jury or DrawMethod.Hybrid)
        {
            var ranked = Need<IRankedResults>("judging_unavailable", "Judging");
            var scores = await ranked.GetJuryScoresAsync(c, s.RoundId!, ct)
                ?? throw Problem(ApiProblem.Conflict("results_not_final", $"Judging round '{s.RoundId}' has no final scores."));
            jury = scores.GroupBy(x => x.EntryId).ToDictionary(g => g.Key, g => g.Max(x => x.Score));
        }
        var maxVotes = votes is { Count: > 0 } ? votes.Values.Max() : 0;
        var scored = new List<(EntryInfo Entry, decimal Value, string Score)>();
        foreach (var entry in approved.Values)
        {
            var v = votes?.GetValueOrDefault(entry.EntryId) ?? 0;
            var j = jury?.GetValueOrDefault(entry.EntryId) ?? 0m;
            switch (s.Method)
            {
                case DrawMethod.TopVotes: scored.Add((entry, v, WinnerRules.VotesScore(v))); break;
                case DrawMethod.Jury when jury!.ContainsKey(entry.EntryId):
                    var js = WinnerRules.DecimalScore(Math.Clamp(j, 0m, 1m)); scored.Add((entry, decimal.Parse(js, System.Globalization.CultureInfo.InvariantCulture), js)); break;
                case DrawMethod.Hybrid:
                    var hs = WinnerRules.DecimalScore(WinnerRules.Hybrid(j, v, maxVotes, s.JuryWeight!.Value));
                    scored.Add((entry, decimal.Parse(hs, System.Globalization.CultureInfo.InvariantCulture), hs)); break;
            }
        }
        // One line per person: their best entry (ties between their own entries: the smallest entry id).
        return scored.GroupBy(x => x.Entry.OwnerFanId, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(x => x.Value).ThenBy(x => x.Entry.EntryId, StringComparer.Ordinal).First())
            .Select(x => new Candidate(x.Entry.OwnerFanId, x.Entry.EntryId, x.Score)).ToList();
    }

    private async Task<List<Candidate>> FilterAsync(DrawState s, Campaign campaign, Eligibility eligibility, List<Candidate> candidates,
        ConcurrentDictionary<string, int> excluded, DateTimeOffset now, CancellationToken ct)
    {
        var blocklist = s.Filters.NotBlocked ? Need<IFanBlocklist>("moderation_unavailable", "Moderation") : null;
        var wonElsewhere = new HashSet<string>(StringComparer.Ordinal);
        if (s.Filters.OneWinPerPerson)
        {
            foreach (var other in await store.ListAsync(s.CampaignId, ct))
                if (other.DrawId != s.DrawId && other.Slots is { } slots) wonElsewhere.UnionWith(slots.Select(x => x.FanId));
        }
        var eligible = new ConcurrentBag<Candidate>();
        await Parallel.ForEachAsync(candidates, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (c, token) =>
        {
            var profile = fans.GetProfileAsync(c.FanId, token);
            var consent = fans.GetConsentAsync(c.FanId, s.CampaignId, token);
            var blocked = blocklist is null ? Task.FromResult(false) : blocklist.IsBlockedAsync(s.CampaignId, c.FanId, token);
            await Task.WhenAll(profile, consent, blocked);
            var reason = WinnerRules.Exclusion(new WinnerRules.Facts(profile.Result, consent.Result, blocked.Result, wonElsewhere.Contains(c.FanId)), s.Filters, campaign.Rules?.Version, eligibility, now);
            if (reason is null) eligible.Add(c);
            else excluded.AddOrUpdate(reason, 1, (_, n) => n + 1);
        });
        return eligible.ToList();
    }

    private T Need<T>(string code, string capability) where T : class
        => services.GetService<T>() ?? throw Problem(new ApiProblem(424, code, $"{capability} is not available.",
            $"This draw needs {capability} ({typeof(T).Name}), which is not running in this deployment."));

    private static ProblemException Problem(ApiProblem p) => new(p);

    /// <summary>A fresh secret seed from the OS CSPRNG.</summary>
    public static byte[] NewSeed() => RandomNumberGenerator.GetBytes(DrawAlgorithm.SeedBytes);
}

/// <summary>
/// Lets the Episodes scheduler run due draws; a draw already made is not re-run (idempotent). It is also the outbox
/// sweep: a draw whose notifications were recorded but not queued (the process stopped in between) is due again at
/// the instant it was made, and each pass sends what is still pending.
/// </summary>
public sealed class WinnersPhaseAction(DrawStore store, DrawRunner runner, WinnerNotifier notifier, ILogger<WinnersPhaseAction> logger) : IPhaseAction
{
    public string Kind => "winners.draw";

    public async Task<IReadOnlyList<DateTimeOffset>> DueInstantsAsync(string campaignId, CancellationToken ct)
        => (await store.ListAsync(campaignId, ct))
            .Select(d => d.Status != DrawStatus.Drawn ? d.CloseAt : d.Outbox is { Count: > 0 } ? d.DrawnAt : null)
            .OfType<DateTimeOffset>().Distinct().Order().ToList();

    public async Task RunAsync(string campaignId, DateTimeOffset dueAt, CancellationToken ct)
    {
        foreach (var draw in await store.ListAsync(campaignId, ct))
        {
            if (draw.Status == DrawStatus.Drawn)
            {
                if (draw.Outbox is { Count: > 0 }) await notifier.FlushAsync(campaignId, draw.DrawId, ct);
                continue;
            }
            if (draw.CloseAt > dueAt) continue;
            try
            {
                await runner.RunAsync(campaignId, draw.DrawId, null, ct);
            }
            catch (ProblemException e) when (e.Problem.Status < 500)
            {
                // A refusal (no commitment, nobody eligible, already drawn concurrently) is a decision, not a failure:
                // retrying cannot change it, so it is logged for the marketer instead of poisoning the scheduler.
                logger.LogWarning("Draw {CampaignId}/{DrawId} not run at {DueAt}: {Code} {Detail}", campaignId, draw.DrawId, dueAt, e.Problem.Code, e.Problem.Detail);
            }
        }
    }
}
