namespace Campaigns.Winners;

/// <summary>
/// Jury results for jury and hybrid draws. Owned by Judging (built separately); Winners consumes it and
/// answers 424 <c>judging_unavailable</c> while no implementation is registered.
/// Contract for the implementer: one score per scored entry, normalised to [0, 1] (1 = best), final
/// (null while the round is still open), deterministic for a closed round.
/// </summary>
public interface IRankedResults
{
    Task<IReadOnlyList<JuryScore>?> GetJuryScoresAsync(string campaignId, string roundId, CancellationToken ct);
}

public sealed record JuryScore(string EntryId, decimal Score);
