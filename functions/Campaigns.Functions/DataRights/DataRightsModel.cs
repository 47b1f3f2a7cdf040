using System.Security.Cryptography;
using System.Text;

namespace Campaigns.DataRights;

/// <summary>Where an erasure applies: everything about the fan ("all", the fan's own request) or one workspace's campaigns (staff).</summary>
public static class ErasureScopes
{
    public const string All = "all";
    public static string Workspace(string workspaceId) => "ws:" + workspaceId;
    public static string? WorkspaceOf(string scope) => scope.StartsWith("ws:", StringComparison.Ordinal) ? scope[3..] : null;
}

public static class ErasureStatuses
{
    public const string Queued = "queued", Running = "running", Done = "done";
}

/// <summary>
/// An erasure job. Its id is derived from the fan and the scope (so a repeated request finds the same job) and is
/// one-way: the status row carries no fan id. <see cref="Run"/> grows with each new request after a finished run;
/// <see cref="Done"/> lists the stores the current run has finished, so a retried message resumes where it stopped.
/// </summary>
public sealed record ErasureJob(string JobId, string Scope, string Status, int Run, DateTimeOffset RequestedAt, string RequestedBy,
    string[] Done, DateTimeOffset? CompletedAt = null)
{
    public static string IdOf(string fanId, string scope)
        => "er-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("erasure\n" + scope + "\n" + fanId)))[..32];
}

/// <summary>The queue message: the only place the fan id travels, and it is deleted once the job is done.</summary>
public sealed record ErasureMessage(string JobId, string FanId, string Scope, int Run);

/// <summary>
/// A record kept after an erasure because a duty requires it (a winner's prize fulfilment, a fraud decision): where it is
/// (table, partition, row), why, and until when. <see cref="ExpiryAction"/> says what the expiry timer does then.
/// </summary>
public sealed record KeptRecord(string Id, string Reason, string Table, string PartitionKey, string RowKey, string ExpiryAction,
    DateTimeOffset KeptAt, DateTimeOffset KeepUntil, string? CampaignId = null, string? Detail = null, int? Position = null, string? Pid = null)
{
    public const string DeleteRow = "delete_row", ScrubWinnerSlot = "scrub_winner_slot";
    public const string PrizeFulfilment = "prize_fulfilment", FraudDecision = "fraud_decision";
}

/// <summary>A short, one-way reference to a fan for audit trails (the fan id itself is not written there).</summary>
public static class FanRef
{
    public static string Of(string fanId) => "fan#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("fanref\n" + fanId)))[..16];
}

public sealed record FanDataRequestInput(string FanId);
