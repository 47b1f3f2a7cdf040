using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Campaigns.Winners;

// Shared, unchanged, by the app and by tools/Campaigns.VerifyDraw (linked <Compile Include>).

/// <summary>
/// The published draw record (format <see cref="FormatVersion"/>): everything needed to re-run the draw with
/// the eligible list file. Before the draw only the commitment part is filled; the rules (method, counts, filters
/// with the frozen eligibility, close, external round, tie rule) are there from the commitment on, and the
/// commitment covers them through <see cref="RulesSha256"/>. Format 1 records (committed before the rules were
/// covered) carry no <see cref="RulesSha256"/> and commit to the seed alone.
/// </summary>
public sealed record DrawRecord(
    string Format,
    string Algorithm,
    string CampaignId,
    string DrawId,
    string Method,
    string Pool,
    int Winners,
    int Alternates,
    DrawRecordFilters Filters,
    string TieRule,
    DateTimeOffset CloseAt,
    string Commitment,
    string? RulesSha256,
    DateTimeOffset CommittedAt,
    DrawRecordExternal? External,
    string Status,
    DateTimeOffset? DrawnAt = null,
    string? Seed = null,
    DrawRecordList? List = null,
    IReadOnlyList<string>? WinnerIds = null,
    IReadOnlyList<string>? AlternateIds = null,
    IReadOnlyDictionary<string, int>? Excluded = null,
    IReadOnlyList<DrawRecordEvent>? Events = null)
{
    public const string FormatVersion = "campaigns-draw-record/2";
    /// <summary>Records whose commitment is SHA-256(seed) only; still verified, without a rules check.</summary>
    public const string FormatVersion1 = "campaigns-draw-record/1";
    public const string TieRuleText =
        "Candidates are ranked by score, highest first; candidates with equal scores are ordered by the seeded draw " +
        "of this record among them (group key from the score), so ties are settled by the committed seed, not by us.";
}

public sealed record DrawRecordFilters(bool Consent, bool AgeConfirmed, bool CountryAllowed, bool NotBlocked, bool NotStaff,
    bool OneWinPerPerson, int? MinAge, IReadOnlyList<string>? Countries, string? RoundId, decimal? JuryWeight);

/// <summary>An external public randomness round (e.g. drand) mixed into the draw key; its value is entered after it is published.</summary>
public sealed record DrawRecordExternal(string Source, long Round, string? Value, DateTimeOffset? EnteredAt);

public sealed record DrawRecordList(string Format, string Sha256, int Count, bool Scored, string Url, string Pseudonyms);

/// <summary>A logged change after the draw: the next alternate promoted into a winner's position.</summary>
public sealed record DrawRecordEvent(DateTimeOffset At, string Kind, int Position, string ReplacedId, string PromotedId,
    int AlternateIndex, string Reason, string? Note);

/// <summary>
/// The rules a draw commits to, as canonical text (<see cref="Format"/>): one "name=value\n" line per rule in a
/// fixed order, so the app and the verifier hash the same bytes from the same record fields. Specified in
/// docs/winners.md; a change to it is a new format, never an edit.
/// </summary>
public static class DrawRules
{
    public const string Format = "campaigns-draw-rules/1";

    public static string Text(string campaignId, string drawId, string method, string pool, int winners, int alternates, DateTimeOffset closeAt,
        DrawRecordFilters f, string? externalSource, long? externalRound, string tieRule)
    {
        var text = new StringBuilder(Format).Append('\n');
        void Line(string name, string? value) => text.Append(name).Append('=').Append(value ?? "").Append('\n');
        static string Flag(bool on) => on ? "true" : "false";
        Line("campaignId", campaignId);
        Line("drawId", drawId);
        Line("method", method);
        Line("pool", pool);
        Line("winners", winners.ToString(CultureInfo.InvariantCulture));
        Line("alternates", alternates.ToString(CultureInfo.InvariantCulture));
        // One spelling of an instant whatever offset the record shows it in.
        Line("closeAt", closeAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        Line("consent", Flag(f.Consent));
        Line("ageConfirmed", Flag(f.AgeConfirmed));
        Line("countryAllowed", Flag(f.CountryAllowed));
        Line("notBlocked", Flag(f.NotBlocked));
        Line("notStaff", Flag(f.NotStaff));
        Line("oneWinPerPerson", Flag(f.OneWinPerPerson));
        Line("minAge", f.MinAge?.ToString(CultureInfo.InvariantCulture));
        // A set, not a list: sorted, so reordering the record's array is not a change of rules.
        Line("countries", f.Countries is null ? "" : string.Join(',', f.Countries.Order(StringComparer.Ordinal)));
        Line("roundId", f.RoundId);
        // 0.70 and 0.7 are the same weight: trailing zeros are dropped.
        Line("juryWeight", f.JuryWeight?.ToString("0.############################", CultureInfo.InvariantCulture));
        Line("external", externalSource is null ? "" : $"{externalSource}:{externalRound?.ToString(CultureInfo.InvariantCulture)}");
        Line("tieRule", tieRule);
        return text.ToString();
    }

    public static string Text(DrawRecord r)
        => Text(r.CampaignId, r.DrawId, r.Method, r.Pool, r.Winners, r.Alternates, r.CloseAt, r.Filters, r.External?.Source, r.External?.Round, r.TieRule);

    public static string Sha256(string rulesText) => DrawAlgorithm.Sha256Hex(Encoding.UTF8.GetBytes(rulesText));

    /// <summary>Format 2 commitment: lowercase hex SHA-256 of the 32 seed bytes followed by the 32 bytes of SHA-256(rules text).</summary>
    public static string Commitment(byte[] seed, string rulesSha256)
        => DrawAlgorithm.Hex(SHA256.HashData([.. seed, .. Convert.FromHexString(rulesSha256)]));

    /// <summary>The rules text of a record as read from its JSON, or null when a rule field is missing or mistyped.</summary>
    public static string? TextOf(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("filters", out var f) || f.ValueKind != JsonValueKind.Object) return null;
        string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool? Flag(string name) => f.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        static bool IsNumber(JsonElement e) => e.ValueKind == JsonValueKind.Number;
        bool IsNull(JsonElement e, string name) => !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;
        if (Str(root, "campaignId") is not { } campaignId || Str(root, "drawId") is not { } drawId || Str(root, "method") is not { } method
            || Str(root, "pool") is not { } pool || Str(root, "tieRule") is not { } tieRule) return null;
        if (!root.TryGetProperty("winners", out var w) || !IsNumber(w) || !w.TryGetInt32(out var winners)
            || !root.TryGetProperty("alternates", out var a) || !IsNumber(a) || !a.TryGetInt32(out var alternates)) return null;
        if (!DateTimeOffset.TryParse(Str(root, "closeAt"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var closeAt)) return null;
        if (Flag("consent") is not { } consent || Flag("ageConfirmed") is not { } age || Flag("countryAllowed") is not { } country
            || Flag("notBlocked") is not { } notBlocked || Flag("notStaff") is not { } notStaff || Flag("oneWinPerPerson") is not { } oneWin) return null;
        int? minAge = null;
        if (!IsNull(f, "minAge")) { if (f.GetProperty("minAge") is not { ValueKind: JsonValueKind.Number } ma || !ma.TryGetInt32(out var m)) return null; minAge = m; }
        List<string>? countries = null;
        if (!IsNull(f, "countries"))
        {
            if (f.GetProperty("countries").ValueKind != JsonValueKind.Array) return null;
            countries = [];
            foreach (var x in f.GetProperty("countries").EnumerateArray()) { if (x.ValueKind != JsonValueKind.String) return null; countries.Add(x.GetString()!); }
        }
        string? roundId = null;
        if (!IsNull(f, "roundId")) { if (Str(f, "roundId") is not { } rid) return null; roundId = rid; }
        decimal? juryWeight = null;
        if (!IsNull(f, "juryWeight")) { if (f.GetProperty("juryWeight") is not { ValueKind: JsonValueKind.Number } wj || !wj.TryGetDecimal(out var jw)) return null; juryWeight = jw; }
        string? source = null;
        long? round = null;
        if (!IsNull(root, "external"))
        {
            var x = root.GetProperty("external");
            if (x.ValueKind != JsonValueKind.Object || Str(x, "source") is not { } src || !x.TryGetProperty("round", out var r) || !IsNumber(r) || !r.TryGetInt64(out var rn)) return null;
            (source, round) = (src, rn);
        }
        return Text(campaignId, drawId, method, pool, winners, alternates, closeAt,
            new DrawRecordFilters(consent, age, country, notBlocked, notStaff, oneWin, minAge, countries, roundId, juryWeight), source, round, tieRule);
    }
}

/// <summary>Re-runs a draw from its public record and list. Exit codes: 0 match, 1 something differs, 2 unreadable input.</summary>
public static class DrawVerifier
{
    public const int Match = 0, Differs = 1, Unreadable = 2;

    public sealed record Outcome(int ExitCode, IReadOnlyList<string> Problems, IReadOnlyList<string> Facts);

    public static Outcome Verify(byte[] recordBytes, byte[] listBytes)
    {
        var facts = new List<string>();
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(recordBytes);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return Bad($"record: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}); is the file truncated?");
        }
        if (root.ValueKind != JsonValueKind.Object) return Bad("record: the JSON is not an object");

        string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var missing = new List<string>();
        string Need(string name) { var v = Str(name); if (string.IsNullOrEmpty(v)) missing.Add(name); return v ?? ""; }

        var format = Need("format");
        var algorithm = Need("algorithm");
        var campaignId = Need("campaignId");
        var drawId = Need("drawId");
        var commitment = Need("commitment");
        var status = Need("status");
        if (missing.Count > 0) return Bad("record: missing field(s) " + string.Join(", ", missing));
        if (format != DrawRecord.FormatVersion && format != DrawRecord.FormatVersion1)
            return new(Differs, [$"record format: '{format}' is not {DrawRecord.FormatVersion} (or {DrawRecord.FormatVersion1}), which this verifier reads"], facts);
        var rulesCovered = format == DrawRecord.FormatVersion;
        if (algorithm != DrawAlgorithm.Version)
            return new(Differs, [$"algorithm version: the record says '{algorithm}', this verifier implements {DrawAlgorithm.Version}"], facts);
        if (status != "drawn") return Bad($"record: status is '{status}': the draw has not been made yet, only its commitment is published");

        var seedHex = Need("seed");
        if (!root.TryGetProperty("list", out var list) || list.ValueKind != JsonValueKind.Object) missing.Add("list");
        if (!TryInt(root, "winners", out var winners)) missing.Add("winners");
        if (!TryInt(root, "alternates", out var alternates)) missing.Add("alternates");
        var winnerIds = Ids(root, "winnerIds");
        var alternateIds = Ids(root, "alternateIds");
        if (winnerIds is null) missing.Add("winnerIds");
        if (alternateIds is null) missing.Add("alternateIds");
        if (missing.Count > 0) return Bad("record: missing or mistyped field(s) " + string.Join(", ", missing));

        var listSha = list.TryGetProperty("sha256", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "";
        if (!DrawAlgorithm.HexId().IsMatch(listSha)) return Bad("record: list.sha256 is not 64 lowercase hex digits");
        if (!DrawAlgorithm.HexId().IsMatch(commitment)) return Bad("record: commitment is not 64 lowercase hex digits");
        if (!DrawAlgorithm.HexId().IsMatch(seedHex)) return Bad("record: seed is not 64 lowercase hex digits");
        string? rulesSha = null, rulesText = null;
        if (rulesCovered)
        {
            rulesSha = Str("rulesSha256") ?? "";
            if (!DrawAlgorithm.HexId().IsMatch(rulesSha)) return Bad("record: rulesSha256 is not 64 lowercase hex digits");
            rulesText = DrawRules.TextOf(root);
            if (rulesText is null) return Bad("record: a rule (method, pool, winners, alternates, closeAt, filters, external, tieRule) is missing or mistyped");
        }
        string? external = null;
        if (root.TryGetProperty("external", out var ext) && ext.ValueKind == JsonValueKind.Object)
        {
            external = ext.TryGetProperty("value", out var ev) && ev.ValueKind == JsonValueKind.String ? ev.GetString() : null;
            if (string.IsNullOrEmpty(external)) return Bad("record: external randomness is declared but its value is missing");
            facts.Add($"external randomness: {Str2(ext, "source")} round {(ext.TryGetProperty("round", out var rr) ? rr.ToString() : "?")} = {external} (check it at the source)");
        }

        if (Instant(root, "closeAt") is not { } closeAt || Instant(root, "committedAt") is not { } committedAt || Instant(root, "drawnAt") is not { } drawnAt)
            return Bad("record: closeAt, committedAt and drawnAt must be ISO 8601 instants");

        var problems = new List<string>();
        // The record's own timeline: a commitment made after the close, or a draw before it, proves nothing.
        if (committedAt >= closeAt) problems.Add($"commitment timing: committed at {committedAt:O}, not before the close at {closeAt:O}");
        if (drawnAt < closeAt) problems.Add($"draw timing: drawn at {drawnAt:O}, before the close at {closeAt:O}");
        var seed = Convert.FromHexString(seedHex);
        if (rulesCovered)
        {
            // Two links: the rules shown must hash to rulesSha256, and seed + rulesSha256 must give the commitment
            // published before the close. Rewriting a rule and its hash together breaks the second link.
            var actualRules = DrawRules.Sha256(rulesText!);
            if (actualRules != rulesSha)
                problems.Add($"rules: the rules in the record hash to {actualRules} but the record commits to {rulesSha} (a rule was changed after the commitment)");
            else facts.Add($"rules: {rulesSha} ({Summary(root)})");
            var expectedCommitment = DrawRules.Commitment(seed, rulesSha!);
            if (expectedCommitment != commitment)
                problems.Add($"seed/commitment: SHA-256(seed ‖ rulesSha256) is {expectedCommitment} but the published commitment is {commitment}");
            else facts.Add($"seed and rules match the commitment {commitment}");
        }
        else
        {
            var seedHash = DrawAlgorithm.Commitment(seed);
            if (seedHash != commitment)
                problems.Add($"seed/commitment: SHA-256(seed) is {seedHash} but the published commitment is {commitment}");
            else facts.Add($"seed matches the commitment {commitment}");
            facts.Add($"{DrawRecord.FormatVersion1}: the commitment covers the seed only; the rules are not checked");
        }

        var actualSha = DrawAlgorithm.Sha256Hex(listBytes);
        if (actualSha != listSha)
            problems.Add($"list: the file's SHA-256 is {actualSha} but the record publishes {listSha} (the list was changed or is another draw's)");
        var (lines, error) = DrawAlgorithm.ParseList(listBytes);
        if (lines is null) return new(problems.Count > 0 ? Differs : Unreadable, [.. problems, "list: " + error], facts);
        if (list.TryGetProperty("count", out var c) && c.TryGetInt32(out var count) && count != lines.Count)
            problems.Add($"list: the file has {lines.Count} ids but the record says {count}");
        facts.Add($"list: {lines.Count} eligible ids, sha256 {actualSha}");

        if (winners < 0 || alternates < 0) return Bad("record: winners and alternates must not be negative");
        var expected = DrawAlgorithm.Select(seed, campaignId, drawId, listSha, external, lines, winners + alternates);
        var expectedWinners = expected.Take(winners).ToList();
        var expectedAlternates = expected.Skip(winners).ToList();
        Compare("winners", expectedWinners, winnerIds!, problems);
        Compare("alternates", expectedAlternates, alternateIds!, problems);

        // Promotions must take the alternates strictly in order.
        if (root.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Array)
        {
            var next = 0;
            var before = problems.Count;
            foreach (var e in events.EnumerateArray())
            {
                if (Str2(e, "kind") != "promoted") continue;
                var promoted = Str2(e, "promotedId");
                var index = e.TryGetProperty("alternateIndex", out var ai) && ai.TryGetInt32(out var i) ? i : -1;
                var want = next < expectedAlternates.Count ? expectedAlternates[next] : null;
                if (index != next + 1 || promoted != want)
                    problems.Add($"promotions: event {next + 1} promoted {promoted} (alternate {index}) but the next alternate in order is {want ?? "none"} (alternate {next + 1})");
                next++;
            }
            if (next > 0 && problems.Count == before) facts.Add($"{next} promotion(s) took the alternates in order");
        }

        if (problems.Count == 0)
        {
            facts.Add($"winners: {string.Join(", ", expectedWinners)}");
            if (expectedAlternates.Count > 0) facts.Add($"alternates: {string.Join(", ", expectedAlternates)}");
        }
        return new(problems.Count == 0 ? Match : Differs, problems, facts);

        Outcome Bad(string message) => new(Unreadable, [message], facts);
    }

    private static string Summary(JsonElement root)
    {
        var f = root.GetProperty("filters");
        var age = f.TryGetProperty("minAge", out var m) && m.ValueKind == JsonValueKind.Number ? $"min age {m}" : "no min age";
        var countries = f.TryGetProperty("countries", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0
            ? "countries " + string.Join(",", c.EnumerateArray().Select(x => x.ToString())) : "any country";
        return $"{age}, {countries}";
    }

    private static void Compare(string what, List<string> expected, List<string> published, List<string> problems)
    {
        for (var i = 0; i < Math.Max(expected.Count, published.Count); i++)
        {
            var e = i < expected.Count ? expected[i] : "(none)";
            var p = i < published.Count ? published[i] : "(none)";
            if (e != p) problems.Add($"{what}: position {(i + 1).ToString(CultureInfo.InvariantCulture)} should be {e} but the record says {p}");
        }
    }

    private static bool TryInt(JsonElement root, string name, out int value)
    {
        value = 0;
        return root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out value);
    }

    private static DateTimeOffset? Instant(JsonElement root, string name)
        => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
           && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : null;

    private static string? Str2(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<string>? Ids(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array) return null;
        var ids = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) return null;
            ids.Add(e.GetString()!);
        }
        return ids;
    }
}
