namespace Campaigns.Judging;

public sealed record Criterion(string Id, string Label, double Weight);

/// <summary>Criteria with weights, scored on an integer scale [ScaleMin, ScaleMax].</summary>
public sealed record Rubric(Criterion[] Criteria, int ScaleMin, int ScaleMax);

public sealed record JudgingSetup(string CampaignId, Rubric Rubric, string[] Judges, DateTimeOffset UpdatedAt);

public sealed record SetupInput(Rubric Rubric, string[] Judges);

public sealed record ConflictInput(string EntryId, string? JudgeId = null, string? Reason = null);

public sealed record Conflict(string CampaignId, string JudgeId, string EntryId, string? Reason, string DeclaredBy, DateTimeOffset At);

public enum AssignmentMode { All, Balanced }

/// <summary>
/// A round: entries (given, or the top <c>Advance</c> of a closed earlier round), how they are assigned,
/// the quorum (scores per entry) that lets it close early, and the deadline after which it closes anyway.
/// </summary>
public sealed record RoundInput(string Id, DateTimeOffset Deadline, string[]? EntryIds = null, string? FromRound = null,
    AssignmentMode Assignment = AssignmentMode.All, int? ScoresPerEntry = null, int? Quorum = null, int? Advance = null);

public sealed record RoundEntry(string EntryId, string OwnerFanId, string Kind, string? Title, string? Locale);

public sealed record Round(
    string CampaignId,
    string Id,
    Rubric Rubric,
    string[] Judges,
    AssignmentMode Assignment,
    int ScoresPerEntry,
    int Quorum,
    int? Advance,
    DateTimeOffset Deadline,
    DateTimeOffset CreatedAt,
    int EntryCount,
    bool Closed = false,
    DateTimeOffset? ClosedAt = null,
    string? ClosedBecause = null,
    string? ClosedBy = null,
    string? ResultsSha256 = null);

/// <summary>
/// A closed round's results as served, frozen at the close (format <see cref="FormatVersion"/>). Its SHA-256 is over
/// the compact JSON written by <c>JudgingRules.SnapshotBytes</c>, the exact bytes the store keeps.
/// </summary>
public sealed record ResultsSnapshot(string Format, string CampaignId, string RoundId, DateTimeOffset ClosedAt, string ClosedBecause,
    string TieBreak, string Normalisation, List<JudgingRules.EntryResult> Entries, List<JudgingRules.Missing> MissingScores)
{
    public const string FormatVersion = "campaigns-judging-results/1";
}

public sealed record ScoreInput(Dictionary<string, int> Scores);

public sealed record Score(string JudgeId, string EntryId, Dictionary<string, int> Scores, double Total, DateTimeOffset At);

public sealed record HybridInput(string JuryRound, string VoteRound, double JuryWeight, double PublicWeight);

/// <summary>
/// The declared weights of the hybrid result, public from <see cref="PublishedAt"/>. Fixed once any result they combine
/// is visible (see <c>JudgingRules.DeclareHybrid</c>); <see cref="VotesRevealedAt"/> is filled when shown with a ranking.
/// </summary>
public sealed record HybridDeclaration(string CampaignId, string JuryRound, string VoteRound, double JuryWeight, double PublicWeight,
    DateTimeOffset PublishedAt, string PublishedBy, DateTimeOffset? VotesRevealedAt = null);
