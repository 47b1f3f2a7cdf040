using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Campaigns.Submissions;

public static class SafetyOutcomes
{
    public const string Allow = "allow", Review = "review", Reject = "reject";
    private static int Rank(string o) => o switch { Reject => 2, Review => 1, _ => 0 };
    public static SafetyVerdict Worst(SafetyVerdict a, SafetyVerdict b)
    {
        var worst = Rank(b.Outcome) > Rank(a.Outcome) ? b : a;
        return worst with { Flags = a.Flags.Concat(b.Flags).Distinct().ToArray() };
    }
}

/// <summary>
/// What the automatic text check found. <see cref="Category"/> and <see cref="Message"/> are shown to the fan;
/// the matched term never is (it would teach the workaround).
/// </summary>
public sealed record SafetyVerdict(string Outcome, string? Category, string? Message, string[] Flags)
{
    public static readonly SafetyVerdict Allowed = new(SafetyOutcomes.Allow, null, null, []);
}

/// <summary>
/// Text safety for captions, stories and labels: per-locale blocklists matched after folding the usual evasions
/// (case, accents, leetspeak, spacing, Unicode look-alikes, repeated letters), brand-protected terms, per-campaign
/// forbidden names, character-set limits and contact details. Pure: no I/O after the lists are loaded.
/// </summary>
public sealed partial class TextSafety
{
    public static readonly string[] Locales = ["en", "fr", "de", "it", "es"];
    private readonly List<Term> _terms;

    private sealed record Term(string[] Words, string Joined, string Category, bool Review, string Locale);

    public TextSafety(IEnumerable<(string Locale, string Text)> lists)
    {
        _terms = [];
        foreach (var (locale, text) in lists)
        {
            var category = "offensive_language";
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                if (line.StartsWith('[') && line.EndsWith(']')) { category = line[1..^1]; continue; }
                var review = line.StartsWith('?');
                var words = Words(Normalize(review ? line[1..] : line));
                if (words.Length == 0) continue;
                _terms.Add(new Term(words, string.Concat(words), category, review, locale));
            }
        }
    }

    /// <summary>The lists bundled with the app (embedded resources Blocklists/&lt;locale&gt;.txt).</summary>
    public static TextSafety Bundled => LazyBundled.Value;
    private static readonly Lazy<TextSafety> LazyBundled = new(LoadBundled);

    private static TextSafety LoadBundled()
    {
        var asm = typeof(TextSafety).Assembly;
        var lists = Locales.Select(l =>
        {
            using var s = asm.GetManifestResourceStream($"Campaigns.Submissions.Blocklists.{l}.txt")
                ?? throw new InvalidOperationException($"Blocklist '{l}' is not embedded.");
            using var r = new StreamReader(s);
            return (l, r.ReadToEnd());
        }).ToList();
        return new TextSafety(lists);
    }

    public int TermCount => _terms.Count;

    /// <summary>Checks one text. <paramref name="multiline"/> allows line breaks (stories), not in labels or titles.</summary>
    public SafetyVerdict Check(string text, string? locale, IReadOnlyCollection<string> brandTerms,
        IReadOnlyCollection<string> forbiddenNames, bool multiline = false)
    {
        if (CharsetProblem(text, multiline) is { } problem)
            return new SafetyVerdict(SafetyOutcomes.Reject, "invalid_characters", problem, ["charset"]);

        var words = Words(Normalize(text));
        var sequence = " " + string.Join(' ', words) + " ";
        // "f u c k", "f.u.c.k": runs of single letters are read as one word too.
        var runs = SingleLetterRuns(words).ToList();
        var candidates = new List<string>(words);
        candidates.AddRange(runs);
        var despaced = string.Concat(words);
        var lang = (locale ?? "").Split('-')[0];

        SafetyVerdict verdict = SafetyVerdict.Allowed;
        foreach (var name in forbiddenNames)
        {
            var n = Words(Normalize(name));
            if (n.Length > 0 && (sequence.Contains(" " + string.Join(' ', n) + " ", StringComparison.Ordinal)
                                 || (string.Concat(n).Length >= 4 && despaced.Contains(string.Concat(n), StringComparison.Ordinal))))
                return new SafetyVerdict(SafetyOutcomes.Reject, "protected_name", Messages["protected_name"], ["forbidden-name"]);
        }

        foreach (var term in _terms)
        {
            if (term.Review && term.Locale != lang) continue;
            var hit = term.Words.Length > 1
                ? sequence.Contains(" " + string.Join(' ', term.Words) + " ", StringComparison.Ordinal)
                  || candidates.Contains(term.Joined)
                : candidates.Any(c => SameWord(c, term.Joined)) || term.Joined.Length >= 4 && runs.Any(r => Collapse(r).Contains(Collapse(term.Joined), StringComparison.Ordinal));
            if (hit)
            {
                var outcome = term.Review ? SafetyOutcomes.Review : SafetyOutcomes.Reject;
                verdict = SafetyOutcomes.Worst(verdict, new SafetyVerdict(outcome, term.Category, Messages.GetValueOrDefault(term.Category), ["blocklist"]));
                if (outcome == SafetyOutcomes.Reject) return verdict;
            }
            else if (!term.Review && term.Joined.Length >= 5 && despaced.Contains(term.Joined, StringComparison.Ordinal))
            {
                // Hidden inside other words ("xxfuckerxx"): could be innocent, so a human looks.
                verdict = SafetyOutcomes.Worst(verdict, new SafetyVerdict(SafetyOutcomes.Review, term.Category,
                    Messages.GetValueOrDefault(term.Category), ["blocklist-embedded"]));
            }
        }

        foreach (var brand in brandTerms)
        {
            var b = Words(Normalize(brand));
            if (b.Length > 0 && (sequence.Contains(" " + string.Join(' ', b) + " ", StringComparison.Ordinal) || candidates.Contains(string.Concat(b))))
                verdict = SafetyOutcomes.Worst(verdict, new SafetyVerdict(SafetyOutcomes.Review, "brand_term", Messages["brand_term"], ["brand-term"]));
        }

        if (ContactPattern().IsMatch(text))
            verdict = SafetyOutcomes.Worst(verdict, new SafetyVerdict(SafetyOutcomes.Review, "contact_details", Messages["contact_details"], ["contact-details"]));
        return verdict;
    }

    public static readonly IReadOnlyDictionary<string, string> Messages = new Dictionary<string, string>
    {
        ["offensive_language"] = "The text contains offensive language.",
        ["hate_speech"] = "The text contains hateful language.",
        ["protected_name"] = "The text names someone or something this campaign does not allow.",
        ["brand_term"] = "The text names a protected brand; a moderator will check it.",
        ["contact_details"] = "The text contains a link or contact details; a moderator will check it.",
        ["invalid_characters"] = "The text contains characters that are not allowed.",
    };

    // A repeated-letter form ("fuuuck", "shiiit") matches when it is at least as long as the term.
    private static bool SameWord(string candidate, string term)
        => candidate == term || (candidate.Length >= term.Length && Collapse(candidate) == Collapse(term));

    private static string Collapse(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) if (sb.Length == 0 || sb[^1] != c) sb.Append(c);
        return sb.ToString();
    }

    private static IEnumerable<string> SingleLetterRuns(string[] words)
    {
        var run = new StringBuilder();
        foreach (var w in words.Append(""))
        {
            if (w.Length == 1) { run.Append(w); continue; }
            if (run.Length >= 2) yield return run.ToString();
            run.Clear();
        }
    }

    private static string[] Words(string normalized)
        => normalized.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Folds a text to lowercase ASCII-ish words separated by single spaces: NFKC (full-width, ligatures, styled
    /// letters), format characters dropped, look-alikes mapped to Latin, accents stripped, leetspeak undone.
    /// </summary>
    public static string Normalize(string text)
    {
        var nfkc = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        var sb = new StringBuilder(nfkc.Length);
        foreach (var ch in nfkc)
        {
            var cat = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (cat is UnicodeCategory.Format) continue; // zero-width joiners/spaces, bidi marks
            sb.Append(Confusables.TryGetValue(ch, out var mapped) ? mapped : ch.ToString());
        }
        var decomposed = sb.ToString().Normalize(NormalizationForm.FormD);
        var words = new StringBuilder(decomposed.Length);
        foreach (var ch in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            var c = Leet.TryGetValue(ch, out var l) ? l : ch;
            if (char.IsLetter(c)) words.Append(c);
            else if (words.Length > 0 && words[^1] != ' ') words.Append(' ');
        }
        return words.ToString().Trim();
    }

    private static readonly Dictionary<char, string> Confusables = new()
    {
        // Cyrillic
        ['а'] = "a", ['в'] = "b", ['е'] = "e", ['ё'] = "e", ['к'] = "k", ['м'] = "m", ['н'] = "h", ['о'] = "o", ['р'] = "p",
        ['с'] = "c", ['т'] = "t", ['у'] = "y", ['х'] = "x", ['ѕ'] = "s", ['і'] = "i", ['ї'] = "i", ['ј'] = "j", ['ԁ'] = "d",
        ['ӏ'] = "l", ['ԛ'] = "q", ['ԝ'] = "w", ['ү'] = "y", ['һ'] = "h", ['ɡ'] = "g",
        // Greek
        ['α'] = "a", ['β'] = "b", ['ε'] = "e", ['η'] = "n", ['ι'] = "i", ['κ'] = "k", ['ν'] = "v", ['ο'] = "o", ['ρ'] = "p",
        ['τ'] = "t", ['υ'] = "u", ['χ'] = "x", ['ω'] = "w", ['μ'] = "u", ['ς'] = "s",
        // Latin specials that NFKC keeps
        ['ı'] = "i", ['ɑ'] = "a", ['ß'] = "ss", ['æ'] = "ae", ['œ'] = "oe", ['ø'] = "o", ['ł'] = "l", ['đ'] = "d", ['ð'] = "d",
        ['þ'] = "th", ['ŀ'] = "l", ['ɩ'] = "i",
    };

    private static readonly Dictionary<char, char> Leet = new()
    {
        ['0'] = 'o', ['1'] = 'i', ['3'] = 'e', ['4'] = 'a', ['5'] = 's', ['7'] = 't', ['8'] = 'b', ['9'] = 'g',
        ['@'] = 'a', ['$'] = 's', ['!'] = 'i', ['|'] = 'l', ['€'] = 'e', ['£'] = 'l', ['¡'] = 'i',
    };

    /// <summary>Control characters, private-use and unassigned code points, bidi overrides and stacked marks are refused.</summary>
    public static string? CharsetProblem(string text, bool multiline)
    {
        var marks = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (char.IsHighSurrogate(ch))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])) return "Broken characters.";
                var cp = char.ConvertToUtf32(ch, text[i + 1]);
                var c2 = CharUnicodeInfo.GetUnicodeCategory(cp);
                if (c2 is UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned) return "Private or unassigned characters.";
                i++; marks = 0; continue;
            }
            if (char.IsLowSurrogate(ch)) return "Broken characters.";
            if (ch is '\n' or '\r') { if (!multiline) return "Line breaks are not allowed here."; marks = 0; continue; }
            if (ch == '\t') { if (!multiline) return "Tabs are not allowed here."; continue; }
            if (ch is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069') return "Text-direction override characters.";
            var cat = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (cat is UnicodeCategory.Control or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate)
                return "Control, private or unassigned characters.";
            if (cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark)
            {
                if (++marks > 3) return "Too many stacked accents.";
            }
            else marks = 0;
        }
        return null;
    }

    [GeneratedRegex(@"(https?://|www\.|\b[\w.+-]+@[\w-]+\.[\w.]+\b|\b[\w-]+\.(com|net|org|io|fr|de|it|es|ch|co|uk|xyz|info|ly)\b|(\+?\d[\d .-]{7,}\d))", RegexOptions.IgnoreCase)]
    private static partial Regex ContactPattern();
}
