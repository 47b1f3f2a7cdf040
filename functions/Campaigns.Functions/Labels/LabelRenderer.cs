using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NetVips;

namespace Campaigns.Labels;

public sealed record TextBox(int X, int Y, int Width, int Height);

/// <summary>A campaign's label: size, background (colour, optional image), the text box and colours. Version bumps on each change.</summary>
public sealed record LabelTemplate(int Width, int Height, string BackgroundColor, string TextColor, TextBox Box, int MaxFontPoints = 48,
    string? BackgroundBlob = null, int Version = 1, int PrintScale = 3);

public sealed record LabelTemplateInput(int Width, int Height, string BackgroundColor, string TextColor, TextBox Box, int MaxFontPoints = 48, int PrintScale = 3);

/// <summary>
/// Renders fan text onto a label with libvips' text operation (Pango). The fan's text is always literal: it is
/// escaped for Pango markup (the only syntax vips text interprets — there is no @file or %-escape expansion as
/// in ImageMagick's label:), and the only markup around it is our own colour span. Fonts are the bundled files:
/// DejaVu Sans for text (Latin, Greek, Cyrillic, Arabic, Hebrew…) and Noto Color Emoji, loaded once so Pango
/// falls back to it for emoji. Short text is not grown past MaxFontPoints; long text is fitted into the box.
/// </summary>
public static partial class LabelRenderer
{
    private static readonly string FontDir = Path.Combine(AppContext.BaseDirectory, "Submissions", "Fonts");
    public static readonly string TextFont = Path.Combine(FontDir, "DejaVuSans.ttf");
    public static readonly string EmojiFont = Path.Combine(FontDir, "NotoColorEmoji.ttf");
    private const string FontFamilies = "DejaVu Sans, Noto Color Emoji";
    private static readonly Lazy<bool> FontsLoaded = new(() =>
    {
        // vips text registers a fontfile with fontconfig for the process: one call makes the emoji font available as a fallback.
        using var emoji = Image.Text("x", fontfile: EmojiFont);
        return true;
    });
    private static readonly Lock RenderLock = new();

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")] public static partial Regex ColorPattern();

    public static Dictionary<string, string[]> Validate(LabelTemplateInput t)
    {
        var errors = new Dictionary<string, string[]>();
        if (t.Width is < 100 or > 4000 || t.Height is < 100 or > 4000) errors["width"] = ["Width and height between 100 and 4000 px."];
        if (!ColorPattern().IsMatch(t.BackgroundColor ?? "")) errors["backgroundColor"] = ["A colour like #FFCC00."];
        if (!ColorPattern().IsMatch(t.TextColor ?? "")) errors["textColor"] = ["A colour like #3A1F04."];
        if (t.Box is null || t.Box.Width < 20 || t.Box.Height < 10 || t.Box.X < 0 || t.Box.Y < 0 || t.Box.X + t.Box.Width > t.Width || t.Box.Y + t.Box.Height > t.Height)
            errors["box"] = ["The text box must lie inside the label and be at least 20×10 px."];
        if (t.MaxFontPoints is < 6 or > 400) errors["maxFontPoints"] = ["Between 6 and 400."];
        if (t.PrintScale is < 1 or > 6) errors["printScale"] = ["Between 1 and 6."];
        return errors;
    }

    /// <summary>The Pango markup for a fan's text: escaped, inside our colour span.</summary>
    public static string Markup(string text, string color)
    {
        if (!ColorPattern().IsMatch(color)) throw new ArgumentException("Not a #RRGGBB colour.", nameof(color));
        var sb = new StringBuilder(text.Length + 40);
        sb.Append("<span foreground=\"").Append(color).Append("\">");
        foreach (var ch in text)
        {
            sb.Append(ch switch
            {
                '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", '\'' => "&apos;",
                _ => ch.ToString(),
            });
        }
        return sb.Append("</span>").ToString();
    }

    /// <summary>Only the text layer (RGBA), for tests and fitting: fitted into the box, never above maxPoints.</summary>
    public static Image TextLayer(string text, string color, int boxWidth, int boxHeight, int maxPoints)
    {
        _ = FontsLoaded.Value;
        var markup = Markup(text, color);
        lock (RenderLock) // fontconfig/Pango setup is not thread-safe everywhere; rendering labels is cheap
        {
            var capped = Image.Text(markup, font: $"{FontFamilies} {maxPoints.ToString(CultureInfo.InvariantCulture)}", fontfile: TextFont,
                width: boxWidth, align: Enums.Align.Centre, rgba: true, dpi: 72, wrap: Enums.TextWrap.WordChar);
            if (capped.Height <= boxHeight && capped.Width <= boxWidth) return capped;
            capped.Dispose();
            return Image.Text(markup, out _, font: FontFamilies, fontfile: TextFont, width: boxWidth, height: boxHeight,
                align: Enums.Align.Centre, rgba: true, wrap: Enums.TextWrap.WordChar);
        }
    }

    /// <summary>The label as PNG at <paramref name="scale"/> × the template size.</summary>
    public static byte[] Render(LabelTemplate t, byte[]? background, string text, int scale = 1)
    {
        var (w, h) = (t.Width * scale, t.Height * scale);
        using var canvas = Canvas(t, background, w, h);
        using var layer = TextLayer(text, t.TextColor, t.Box.Width * scale, t.Box.Height * scale, t.MaxFontPoints * scale);
        var x = t.Box.X * scale + Math.Max(0, (t.Box.Width * scale - layer.Width) / 2);
        var y = t.Box.Y * scale + Math.Max(0, (t.Box.Height * scale - layer.Height) / 2);
        using var composed = canvas.Composite2(layer, Enums.BlendMode.Over, x, y);
        using var rgb = composed.Bands > 3 ? composed.Flatten(background: [255, 255, 255]) : composed.Copy();
        using var u8 = rgb.Cast(Enums.BandFormat.Uchar);
        return u8.PngsaveBuffer(compression: 6, keep: Enums.ForeignKeep.None);
    }

    private static Image Canvas(LabelTemplate t, byte[]? background, int w, int h)
    {
        if (background is not null)
        {
            // ThumbnailBuffer would report its copy of the background to the GC as memory pressure for every label,
            // forcing full collections through a print batch (see ImagePipeline). This copy is libvips' own: the image is
            // evaluated after this method returns, so it must not read a pinned array whose pin ends with the Source.
            using var source = Source.NewFromMemory(background.AsSpan());
            using var bg = Image.ThumbnailSource(source, w, "[fail_on=error]", height: h, size: Enums.Size.Force);
            using var srgb = bg.Interpretation == Enums.Interpretation.Srgb ? bg.Copy() : bg.Colourspace(Enums.Interpretation.Srgb);
            return srgb.HasAlpha() ? srgb.Flatten(background: Rgb(t.BackgroundColor)) : srgb.Copy();
        }
        var c = Rgb(t.BackgroundColor);
        using var black = Image.Black(w, h, bands: 3);
        using var filled = black.NewFromImage(c);
        return filled.Copy(interpretation: Enums.Interpretation.Srgb);
    }

    private static double[] Rgb(string hex) =>
    [
        int.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
    ];
}
