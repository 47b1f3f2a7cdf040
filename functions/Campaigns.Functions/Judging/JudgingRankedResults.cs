using Campaigns.Winners;

namespace Campaigns.Judging;

/// <summary>Jury results for Winners' jury and hybrid draws: the round's quality score (min–max of the normalised jury score, in [0, 1]).</summary>
internal sealed class JudgingRankedResults(JudgingService judging) : IRankedResults
{
    public async Task<IReadOnlyList<JuryScore>?> GetJuryScoresAsync(string campaignId, string roundId, CancellationToken ct)
    {
        var (result, _) = await judging.ResultsAsync(campaignId, roundId, ct);
        // Open, unknown or blind rounds give nothing: Winners then refuses the draw instead of ranking early.
        return result?.Entries.Where(e => e.Quality is not null).Select(e => new JuryScore(e.EntryId, (decimal)e.Quality!.Value)).ToList();
    }
}
