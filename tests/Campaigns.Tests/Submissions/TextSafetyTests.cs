using Campaigns.Submissions;

namespace Campaigns.Tests.Submissions;

public sealed class TextSafetyTests
{
    private static readonly TextSafety Safety = TextSafety.Bundled;
    private static SafetyVerdict Check(string text, string locale = "en", string[]? brands = null, string[]? names = null, bool multiline = false)
        => Safety.Check(text, locale, brands ?? [], names ?? [], multiline);

    [Fact]
    public void Every_locale_list_is_loaded()
    {
        Assert.True(Safety.TermCount > 80);
        foreach (var (text, locale) in new[] { ("quelle merde", "fr"), ("so ein arschloch", "de"), ("che stronzo", "it"), ("eres un gilipollas", "es"), ("you bitch", "en") })
            Assert.Equal(SafetyOutcomes.Reject, Check(text, locale).Outcome);
    }

    [Theory]
    [InlineData("FUCK this")]                   // case
    [InlineData("f u c k this")]                // spacing
    [InlineData("f.u.c.k this")]                // punctuation spacing
    [InlineData("you are a f.u.c.k.e.r")]      // spaced word after a one-letter word
    [InlineData("fuuuuck this")]                // repeated letters
    [InlineData("fu\u200Bck this")]             // zero-width space
    [InlineData("fu\u0441k this")]              // Cyrillic с look-alike
    [InlineData("ｆｕｃｋ this")]                // full-width
    [InlineData("𝐟𝐮𝐜𝐤 this")]                   // mathematical bold
    [InlineData("sh1t happens")]                // leetspeak
    [InlineData("$h!t happens")]                // leetspeak symbols
    [InlineData("Scheiße")]                     // ß folding
    [InlineData("enculé")]                      // accents
    [InlineData("ENCULÉ")]                      // accents + case
    [InlineData("fils de pute")]                // multi-word
    [InlineData("hijo   de  PUTA")]             // multi-word with spacing
    [InlineData("ⓢⓗⓘⓣ")]                        // circled letters
    public void Blocklist_evasions_are_caught(string text)
    {
        var v = Check(text);
        Assert.Equal(SafetyOutcomes.Reject, v.Outcome);
        Assert.Contains(v.Category, new[] { "offensive_language", "hate_speech" });
        Assert.DoesNotContain("fuck", v.Message ?? "", StringComparison.OrdinalIgnoreCase); // the term is never echoed
    }

    [Theory]
    [InlineData("A classic Sunday breakfast with my grandmother", "en")] // "ass" inside words
    [InlineData("Scunthorpe United forever", "en")]
    [InlineData("Je suis venu avec mon frère", "fr")]
    [InlineData("Café con leche y pan", "es")]                           // "con" is French-only review term
    [InlineData("Ein Glas Honig und Brot", "de")]
    [InlineData("Buongiorno a tutti! 🍞", "it")]
    [InlineData("Pour Marie ❤️", "fr")]
    public void Ordinary_text_is_allowed(string text, string locale)
        => Assert.Equal(SafetyOutcomes.Allow, Check(text, locale).Outcome);

    [Fact]
    public void Words_with_innocent_uses_go_to_review_only_in_their_locale()
    {
        Assert.Equal(SafetyOutcomes.Review, Check("quel con", "fr").Outcome);
        Assert.Equal(SafetyOutcomes.Allow, Check("pan con queso", "es").Outcome);
    }

    [Fact]
    public void Brand_terms_go_to_review_and_forbidden_names_are_rejected()
    {
        var brand = Check("Better than N u t e l l a", brands: ["Nutella"]);
        Assert.Equal(SafetyOutcomes.Review, brand.Outcome);
        Assert.Equal("brand_term", brand.Category);

        var name = Check("Happy birthday Adolf H1tler", names: ["Adolf Hitler"]);
        Assert.Equal(SafetyOutcomes.Reject, name.Outcome);
        Assert.Equal("protected_name", name.Category);
        Assert.Equal(SafetyOutcomes.Reject, Check("for ádolfhitler", names: ["Adolf Hitler"]).Outcome);
    }

    [Theory]
    [InlineData("abc\u202Edef")]       // bidi override
    [InlineData("ab\u0007c")]          // control
    [InlineData("ab\uE000c")]          // private use
    [InlineData("z\u0301\u0302\u0303\u0304\u0305algo")] // stacked marks
    [InlineData("line\nbreak")]        // no line breaks in a label
    public void Character_set_limits_reject(string text)
    {
        var v = Check(text);
        Assert.Equal(SafetyOutcomes.Reject, v.Outcome);
        Assert.Equal("invalid_characters", v.Category);
    }

    [Fact]
    public void Stories_may_have_line_breaks_and_links_go_to_review()
    {
        Assert.Equal(SafetyOutcomes.Allow, Check("First line\nSecond line", multiline: true).Outcome);
        Assert.Equal("contact_details", Check("visit www.example.com now").Category);
        Assert.Equal("contact_details", Check("write me at fan@example.org").Category);
    }

    [Fact]
    public void Normalize_folds_case_accents_leet_and_lookalikes()
    {
        Assert.Equal("creme brulee", TextSafety.Normalize("Crème Brûlée"));
        Assert.Equal("hello", TextSafety.Normalize("h3ll0"));
        Assert.Equal("paypal", TextSafety.Normalize("раураl")); // Cyrillic р а у
    }
}
