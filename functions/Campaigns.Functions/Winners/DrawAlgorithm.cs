using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Campaigns.Winners;

// Shared, unchanged, by the app and by tools/Campaigns.VerifyDraw (linked <Compile Include>): one implementation.
// Depends on the BCL only. Any change to what it computes is a new Version, never an edit of version 1.

/// <summary>
/// Draw algorithm <c>campaigns-draw/1</c>: commit-reveal, HMAC-SHA256 counter stream, rejection sampling,
/// partial Fisher–Yates (without replacement). Specified step by step in docs/winners.md.
/// </summary>
public static partial class DrawAlgorithm
{
    public const string Version = "campaigns-draw/1";
    public const string ListFormat = "campaigns-draw-list/1";
    public const int SeedBytes = 32;
    /// <summary>Sanity bound for counter streams: rejection needs more than a handful of words with negligible probability.</summary>
    private const int MaxWordsPerPick = 1_000;

    [GeneratedRegex("^[0-9a-f]{64}$")] public static partial Regex HexId();
    [GeneratedRegex("^(0|[1-9][0-9]{0,17})(\\.[0-9]{6})?$")] public static partial Regex Score();

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Hex(SHA256.HashData(bytes));

    /// <summary>The published commitment: lowercase hex SHA-256 of the 32 seed bytes.</summary>
    public static string Commitment(byte[] seed) => Sha256Hex(seed);

    /// <summary>A pseudonymous id: lowercase hex HMAC-SHA256(key, UTF-8 "campaignId\nfanId").</summary>
    public static string Pseudonym(byte[] key, string campaignId, string fanId)
        => Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(campaignId + "\n" + fanId)));

    /// <summary>K = HMAC-SHA256(seed, UTF-8 "campaigns-draw/1\n{campaignId}\n{drawId}\n{listSha256}\n{external}\n").</summary>
    public static byte[] DrawKey(byte[] seed, string campaignId, string drawId, string listSha256, string? external)
        => HMACSHA256.HashData(seed, Encoding.UTF8.GetBytes($"{Version}\n{campaignId}\n{drawId}\n{listSha256}\n{external ?? ""}\n"));

    /// <summary>G = HMAC-SHA256(K, UTF-8 "group\n{score}\n"); the score is "" for an unscored (random) list.</summary>
    public static byte[] GroupKey(byte[] drawKey, string score)
        => HMACSHA256.HashData(drawKey, Encoding.UTF8.GetBytes($"group\n{score}\n"));

    /// <summary>Word i of a stream: the first 8 bytes, big-endian, of HMAC-SHA256(G, 8-byte big-endian i).</summary>
    public static ulong Word(byte[] groupKey, ulong counter)
    {
        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(message, counter);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(groupKey, message, mac);
        return BinaryPrimitives.ReadUInt64BigEndian(mac);
    }

    /// <summary>
    /// Maps a 64-bit word to [0, n) without bias, or null when the word falls in the rejected top zone
    /// (the last 2^64 mod n values), in which case the next word is taken.
    /// </summary>
    public static ulong? Uniform(ulong word, ulong n)
    {
        if (n == 0) throw new ArgumentOutOfRangeException(nameof(n));
        var rejected = (0 - n) % n; // 2^64 mod n
        if (rejected != 0 && word > ulong.MaxValue - rejected) return null;
        return word % n;
    }

    /// <summary>A stream of unbiased picks from one group's counter stream.</summary>
    public sealed class Stream(byte[] groupKey)
    {
        private ulong _counter;

        public ulong Next(ulong n)
        {
            for (var i = 0; i < MaxWordsPerPick; i++)
            {
                if (Uniform(Word(groupKey, _counter++), n) is { } r) return r;
            }
            throw new InvalidOperationException("The counter stream rejected too many words.");
        }
    }

    /// <summary>
    /// Orders a sorted list of candidates: groups by score descending (one group when unscored); in each group a
    /// partial Fisher–Yates shuffle over the ids in list order picks until <paramref name="count"/> are chosen.
    /// </summary>
    public static List<string> Select(byte[] seed, string campaignId, string drawId, string listSha256, string? external,
        IReadOnlyList<ListLine> list, int count)
    {
        var key = DrawKey(seed, campaignId, drawId, listSha256, external);
        var chosen = new List<string>(Math.Min(count, list.Count));
        var groups = list.GroupBy(l => l.Score ?? "")
            .OrderByDescending(g => decimal.Parse(g.Key.Length == 0 ? "0" : g.Key, CultureInfo.InvariantCulture));
        foreach (var group in groups)
        {
            if (chosen.Count >= count) break;
            var ids = group.Select(l => l.Id).ToArray();
            var stream = new Stream(GroupKey(key, group.Key));
            var picks = Math.Min(count - chosen.Count, ids.Length);
            for (var j = 0; j < picks; j++)
            {
                var r = (int)stream.Next((ulong)(ids.Length - j));
                (ids[j], ids[j + r]) = (ids[j + r], ids[j]);
                chosen.Add(ids[j]);
            }
        }
        return chosen;
    }

    public readonly record struct ListLine(string Id, string? Score);

    /// <summary>The canonical list file: one "id" or "id score" per line, LF-terminated, ids sorted (ordinal) and unique.</summary>
    public static byte[] WriteList(IEnumerable<ListLine> lines)
    {
        var sorted = lines.OrderBy(l => l.Id, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder(sorted.Count * 72);
        foreach (var l in sorted) sb.Append(l.Id).Append(l.Score is null ? "" : " " + l.Score).Append('\n');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Reads a list file strictly; the error names the line. Canonical form is required so the hash is meaningful.</summary>
    public static (List<ListLine>? Lines, string? Error) ParseList(byte[] bytes)
    {
        if (bytes.Length == 0) return (null, "the list is empty");
        if (bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) return (null, "the list starts with a byte-order mark");
        if (bytes[^1] != (byte)'\n') return (null, "the list does not end with a newline (truncated?)");
        string text;
        try { text = new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { return (null, "the list is not UTF-8"); }
        var rows = text[..^1].Split('\n');
        var lines = new List<ListLine>(rows.Length);
        bool? scored = null;
        bool? decimals = null;
        for (var i = 0; i < rows.Length; i++)
        {
            var parts = rows[i].Split(' ');
            if (parts.Length > 2 || !HexId().IsMatch(parts[0]))
                return (null, $"line {i + 1} is not '<64 lowercase hex>' or '<64 lowercase hex> <score>'");
            var score = parts.Length == 2 ? parts[1] : null;
            if (score is not null && !Score().IsMatch(score)) return (null, $"line {i + 1} has a score that is not canonical (e.g. 12 or 0.500000)");
            scored ??= score is not null;
            if (scored != (score is not null)) return (null, $"line {i + 1}: either every line has a score or none has");
            if (score is not null)
            {
                decimals ??= score.Contains('.');
                if (decimals != score.Contains('.')) return (null, $"line {i + 1}: scores mix integers and decimals");
            }
            if (i > 0 && string.CompareOrdinal(lines[^1].Id, parts[0]) >= 0)
                return (null, $"line {i + 1} is out of order or repeats an id (ids must be sorted and unique)");
            lines.Add(new ListLine(parts[0], score));
        }
        return (lines, null);
    }
}
