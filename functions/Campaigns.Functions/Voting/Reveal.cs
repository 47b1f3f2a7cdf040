using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

public sealed record SnapshotOption(string Id, Dictionary<string, string> Label, long Count, double Share);

public sealed record SnapshotCategory(string Id, Dictionary<string, string> Label, long Total, SnapshotOption[] Options, string? Winner, string[] Tied);

/// <summary>The frozen result of a round. Signed as the exact UTF-8 JSON text that is published.</summary>
public sealed record RevealSnapshot(
    string CampaignId,
    string RoundId,
    RoundKind Kind,
    VoteMode Mode,
    DateTimeOffset ClosedAt,
    DateTimeOffset RevealedAt,
    string RevealedBy,
    long VotesCounted,
    SnapshotCategory[] Categories,
    Dictionary<string, string> Configuration,
    Dictionary<string, long> Refusals,
    string KeyId);

/// <summary>A published snapshot: the exact signed text, its signature and the public key to check it with.</summary>
public sealed record SignedSnapshot(string Snapshot, string Signature, string PublicKey, string KeyId)
{
    public const string Algorithm = "ECDSA P-256 with SHA-256 (IEEE P1363 r||s, Base64) over the UTF-8 bytes of 'snapshot'; public key: SubjectPublicKeyInfo, Base64";
}

public static class RevealSigner
{
    public static ECDsa LoadKey(string text)
    {
        var key = ECDsa.Create();
        if (text.Contains("-----BEGIN", StringComparison.Ordinal)) key.ImportFromPem(text);
        else key.ImportPkcs8PrivateKey(Convert.FromBase64String(text.Trim()), out _);
        if (key.KeySize != 256) throw new CryptographicException("The reveal key must be a P-256 key.");
        return key;
    }

    public static string PublicKey(ECDsa key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    public static string KeyId(string publicKey) => Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(publicKey)))[..16];

    public static string Sign(ECDsa key, string snapshot) => Convert.ToBase64String(key.SignData(Encoding.UTF8.GetBytes(snapshot), HashAlgorithmName.SHA256));

    /// <summary>Anyone can run this check with the published public key: a changed byte in the snapshot fails it.</summary>
    public static bool Verify(string snapshot, string signature, string publicKey)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey), out _);
            return key.VerifyData(Encoding.UTF8.GetBytes(snapshot), Convert.FromBase64String(signature), HashAlgorithmName.SHA256);
        }
        catch (FormatException) { return false; }
        catch (CryptographicException) { return false; }
    }

    /// <summary>Pure: the snapshot of a round from its summed counter rows.</summary>
    public static RevealSnapshot Build(Campaign campaign, Ballot ballot, Round round, IReadOnlyDictionary<string, long> tally,
        DateTimeOffset closedAt, DateTimeOffset now, string actor, string keyId)
    {
        var categories = new List<SnapshotCategory>();
        if (round.Kind == RoundKind.Entries)
        {
            var prefix = $"n|c|{Contracts.EntriesCategory}|";
            var entries = tally.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Value > 0)
                .Select(kv => (Id: kv.Key[prefix.Length..], Count: kv.Value)).ToList();
            categories.Add(Category(Contracts.EntriesCategory, [], entries.Select(e => (e.Id, new Dictionary<string, string>(), e.Count)).ToList()));
        }
        else
        {
            foreach (var c in round.Categories)
                categories.Add(Category(c.Id, c.Label, c.Options.Select(o => (o.Id, o.Label, tally.GetValueOrDefault(VoteRules.CountRow(c.Id, o.Id)))).ToList()));
        }
        var configuration = categories.Where(c => c.Winner is not null).ToDictionary(c => c.Id, c => c.Winner!);
        var refusals = RefusalReasons.All.ToDictionary(r => r, r => tally.GetValueOrDefault(VoteRules.ReasonRow(r)));
        return new RevealSnapshot(campaign.Id, round.Id, round.Kind, ballot.Mode, closedAt, now, actor,
            tally.GetValueOrDefault(VoteRules.TotalRow), categories.ToArray(), configuration, refusals, keyId);
    }

    private static SnapshotCategory Category(string id, Dictionary<string, string> label, List<(string Id, Dictionary<string, string> Label, long Count)> options)
    {
        var total = options.Sum(o => o.Count);
        var ordered = options.OrderByDescending(o => o.Count).ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
        var top = ordered.FirstOrDefault().Count;
        var tied = top > 0 ? ordered.Where(o => o.Count == top).Select(o => o.Id).ToArray() : [];
        return new SnapshotCategory(id, label, total,
            ordered.Select(o => new SnapshotOption(o.Id, o.Label, o.Count, total == 0 ? 0 : Math.Round((double)o.Count / total, 4))).ToArray(),
            tied.Length == 1 ? tied[0] : null, tied.Length > 1 ? tied : []);
    }
}

/// <summary>
/// Freezes a closed round's counts into a signed snapshot, once: the first reveal is stored insert-if-absent and every
/// later call (admin or scheduler, concurrent or repeated) returns that same snapshot.
/// </summary>
public sealed class RevealService(StorageClients storage, VoteCounter counter, IOptions<VotingOptions> options, TimeProvider time)
{
    public const string TableName = "voteresults";
    /// <summary>Votes validated just before the close may still be in a group-commit flush: wait this long after it.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    private TableClient Table => storage.Table(TableName);

    public async Task<SignedSnapshot?> GetAsync(string campaignId, string roundId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(campaignId, roundId, cancellationToken: ct);
        if (!r.HasValue || r.Value is null) return null;
        var e = r.Value;
        return new SignedSnapshot(e.GetString("Snapshot"), e.GetString("Signature"), e.GetString("PublicKey"), e.GetString("KeyId"));
    }

    public async Task<SignedSnapshot> RevealAsync(Campaign campaign, Ballot ballot, Round round, string actor, CancellationToken ct)
    {
        if (await GetAsync(campaign.Id, round.Id, ct) is { } existing) return existing;
        var now = time.GetUtcNow();
        var window = VoteRules.Window(round, campaign);
        if (window is null || now < window.End + Settle)
            throw new ProblemException(ApiProblem.Conflict("round_not_closed", "A round can be revealed only after it has closed."));
        // Fans were told when results come out: nobody publishes them before that, whatever their role.
        if (VoteRules.RevealAt(round, campaign) is { } due && now < due)
            throw new ProblemException(ApiProblem.Conflict("reveal_not_due", $"The results are announced for {due:O}; they cannot be revealed before."));
        if (string.IsNullOrWhiteSpace(options.Value.RevealSigningKey))
            throw new ProblemException(new ApiProblem(503, "reveal_key_missing", "Results cannot be signed.", "Set Voting__RevealSigningKey."));
        // This round's backlog only: other campaigns' messages in the shared queue (or their poison) do not hold it back.
        if (await counter.HasBacklogAsync(campaign.Id, round.Id, ct))
            throw new ProblemException(new ApiProblem(409, "tally_not_drained", "Votes of this round are still being counted.", "Try again in a few seconds."));

        using var key = RevealSigner.LoadKey(options.Value.RevealSigningKey);
        var publicKey = RevealSigner.PublicKey(key);
        var keyId = RevealSigner.KeyId(publicKey);
        var tally = await counter.ReadTallyAsync(campaign.Id, round, ct);
        var snapshot = RevealSigner.Build(campaign, ballot, round, tally, window.End, now, actor, keyId);
        var text = JsonSerializer.Serialize(snapshot, JsonDefaults.Options);
        var signed = new SignedSnapshot(text, RevealSigner.Sign(key, text), publicKey, keyId);
        try
        {
            await Table.AddEntityAsync(new TableEntity(campaign.Id, round.Id)
            {
                ["Snapshot"] = signed.Snapshot, ["Signature"] = signed.Signature, ["PublicKey"] = signed.PublicKey, ["KeyId"] = keyId,
            }, ct);
            return signed;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return (await GetAsync(campaign.Id, round.Id, ct))!;
        }
    }
}
