using Campaigns.Labels;
using NetVips;

namespace Campaigns.Tests.Submissions;

public sealed class LabelRendererTests
{
    private static readonly LabelTemplate Template = new(600, 300, "#FFCC00", "#3A1F04", new TextBox(50, 100, 500, 120), MaxFontPoints: 40);

    private static Image Layer(string text) => LabelRenderer.TextLayer(text, "#000000", 2000, 200, 40);

    [Fact]
    public void Markup_in_fan_text_is_rendered_literally()
    {
        Assert.Equal("<span foreground=\"#112233\">&lt;b&gt;x&lt;/b&gt; &amp; &apos;q&quot;</span>", LabelRenderer.Markup("<b>x</b> & 'q\"", "#112233"));

        // Interpreted, this span would paint red text; literal, it is the template's black.
        using var layer = Layer("<span foreground='red'>RED</span>");
        using var rgb = layer.ExtractBand(0, n: 3);
        using var alpha = layer.ExtractBand(3);
        Assert.True(alpha.Max() > 200);                       // something was drawn
        Assert.True(rgb.ExtractBand(0).Max() < 60, "text rendered in red: markup was interpreted");
        // And the tags are drawn as characters: far wider than the word RED alone.
        using var red = Layer("RED");
        Assert.True(layer.Width > red.Width * 4);

        // Unbalanced markup would make Pango fail; literal text just renders.
        using var broken = Layer("<b>unclosed & <i");
        Assert.True(broken.Width > 50);
    }

    [Theory]
    [InlineData("@/etc/hostname", "@/etc/hostnamX")]
    [InlineData("%w %h %[exif:*]", "%x %y %[abcd:*]")]
    public void File_and_format_escapes_are_plain_characters(string text, string sameLengthLiteral)
    {
        // If "@file" or "%w" were expanded, the width would follow the file's content or the number, not the characters.
        using var a = Layer(text);
        using var b = Layer(sameLengthLiteral);
        Assert.InRange(a.Width, b.Width * 0.85, b.Width * 1.15);
        if (File.Exists("/etc/hostname"))
        {
            var host = File.ReadAllText("/etc/hostname").Trim();
            if (host.Length > 0 && Math.Abs(host.Length - text.Length) > 3)
            {
                using var h = Layer(host);
                Assert.NotInRange(a.Width, h.Width * 0.9, h.Width * 1.1);
            }
        }
    }

    [Fact]
    public void Rtl_and_emoji_render_with_the_bundled_fonts()
    {
        Assert.True(File.Exists(LabelRenderer.TextFont) && File.Exists(LabelRenderer.EmojiFont));
        using var rtl = Layer("مرحبا بالعالم שלום");
        Assert.True(rtl.Width > 100 && rtl.ExtractBand(3).Max() > 200);

        // Colour emoji: the black text colour cannot produce yellow pixels; the emoji font does.
        using var emoji = Layer("😀🎉");
        using var r = emoji.ExtractBand(0);
        using var g = emoji.ExtractBand(1);
        using var b = emoji.ExtractBand(2);
        using var yellow = (r > 200) & (g > 150) & (b < 100);
        Assert.True(yellow.Max() > 0, "no colour emoji pixels");
    }

    [Fact]
    public void Short_text_is_not_grown_past_the_cap_and_long_text_is_fitted_into_the_box()
    {
        using var small = LabelRenderer.TextLayer("Hi", "#000000", 500, 400, 20);
        Assert.True(small.Height < 60, $"short text grew to {small.Height}px");
        using var fitted = LabelRenderer.TextLayer(new string('W', 40), "#000000", 300, 60, 200);
        Assert.True(fitted.Width <= 300 && fitted.Height <= 60, $"{fitted.Width}x{fitted.Height}");
    }

    [Fact]
    public void The_label_is_a_png_of_the_template_size_with_the_background_colour()
    {
        var png = LabelRenderer.Render(Template, null, "Pour Marie 💛");
        using var img = Image.NewFromBuffer(png);
        Assert.Equal((600, 300), (img.Width, img.Height));
        var corner = img.Getpoint(5, 5);
        Assert.Equal([255.0, 204.0, 0.0], corner.Take(3).ToArray());
        using var print = Image.NewFromBuffer(LabelRenderer.Render(Template, null, "Pour Marie", 3));
        Assert.Equal((1800, 900), (print.Width, print.Height));
    }

    [Fact]
    public void Template_validation_names_the_bad_fields()
    {
        var errors = LabelRenderer.Validate(new LabelTemplateInput(600, 300, "yellow", "#000000", new TextBox(500, 0, 200, 50)));
        Assert.Contains("backgroundColor", errors.Keys);
        Assert.Contains("box", errors.Keys);
    }
}
