using NetVips;

namespace Campaigns.Submissions;

public sealed record ImageLimits(long MaxPixels, int MaxSide)
{
    public static ImageLimits From(SubmissionsOptions o) => new(o.MaxImagePixels, o.MaxImageSide);
}

public sealed record Derivative(int Box, byte[] Jpeg, int Width, int Height);

/// <summary>The pipeline's answer: derivatives, or a refusal with a reason the fan is shown. Never thrown for bad input.</summary>
public sealed record ImageOutcome(string? ReasonCode, string? ReasonText, IReadOnlyList<Derivative> Derivatives, int Width, int Height)
{
    public bool Ok => ReasonCode is null;
    public static ImageOutcome Refused(string code, string text) => new(code, text, [], 0, 0);
}

/// <summary>
/// Uploaded photo → display derivatives, with NetVips (libvips). Order matters for safety: sniff the bytes,
/// allow-list the loader, read the header only and refuse by pixel count before anything is decoded; then
/// decode with fail_on=error (truncation is an error, not a grey half-image), auto-orient, convert to sRGB,
/// flatten alpha and save JPEGs with no metadata at all (no EXIF, GPS, XMP, IPTC, ICC or comments).
/// Bad input yields a refusal; only infrastructure faults throw (so queue retries are for those alone).
/// </summary>
public static class ImagePipeline
{
    public const int Small = 320, Large = 1080;
    private const int Quality = 82;
    private static readonly string[] AllowedLoaders = ["VipsForeignLoadJpegBuffer", "VipsForeignLoadPngBuffer", "VipsForeignLoadWebpBuffer"];

    static ImagePipeline()
    {
        // A server decodes each upload once: libvips' operation cache would only hold on to memory.
        Cache.Max = 0;
        Cache.MaxMem = 0;
        Cache.MaxFiles = 0;
    }

    /// <summary>Call once at start so the native library loads (and fails, if it must) before traffic.</summary>
    public static string Init() => $"libvips {NetVips.NetVips.Version(0)}.{NetVips.NetVips.Version(1)}.{NetVips.NetVips.Version(2)}";

    public static ImageOutcome Process(byte[] data, ImageLimits limits)
    {
        var sniffed = ContentSniffer.Sniff(data);
        if (sniffed is ContentSniffer.Heic)
            return ImageOutcome.Refused("heic_not_supported", "HEIC photos are not supported: please send a JPEG (on iPhone: Settings › Camera › Formats › Most Compatible).");
        if (!ContentSniffer.IsImageKind(sniffed))
            return ImageOutcome.Refused("unsupported_format", "Only JPEG, PNG and WebP photos are accepted.");

        string? loader;
        try { loader = Image.FindLoadBuffer(data); }
        catch (VipsException) { loader = null; }
        if (loader is null) return Unreadable();
        if (!AllowedLoaders.Contains(loader)) return ImageOutcome.Refused("unsupported_format", "Only JPEG, PNG and WebP photos are accepted.");

        int width, height;
        try
        {
            // Header only: libvips reads dimensions without decoding pixels.
            using var header = Image.NewFromBuffer(data, access: Enums.Access.Sequential);
            width = header.Width;
            height = header.Height;
        }
        catch (VipsException) { return Unreadable(); }
        if (width <= 0 || height <= 0) return Unreadable();
        if (width > limits.MaxSide || height > limits.MaxSide || (long)width * height > limits.MaxPixels)
            return ImageOutcome.Refused("image_too_large",
                $"The photo is too large ({width}×{height}); at most {limits.MaxPixels / 1_000_000} megapixels and {limits.MaxSide} px a side.");

        try
        {
            // The typed failOn argument is ignored by thumbnail_buffer (libvips #5195): the loader option string is what works.
            using var thumb = Image.ThumbnailBuffer(data, Large, "[fail_on=error]", height: Large, size: Enums.Size.Down);
            using var srgb = ToSrgb(thumb);
            using var large = srgb.CopyMemory();
            var largeJpeg = Save(large);
            using var small = large.ThumbnailImage(Small, height: Small, size: Enums.Size.Down, noRotate: true);
            var smallJpeg = Save(small);
            return new ImageOutcome(null, null,
                [new Derivative(Small, smallJpeg, small.Width, small.Height), new Derivative(Large, largeJpeg, large.Width, large.Height)],
                large.Width, large.Height);
        }
        catch (VipsException) { return Unreadable(); }
    }

    private static ImageOutcome Unreadable() => ImageOutcome.Refused("unreadable_image", "The photo could not be read: it may be damaged or incomplete. Please upload it again.");

    private static Image ToSrgb(Image image)
    {
        var img = image;
        if (img.Interpretation is not (Enums.Interpretation.Srgb or Enums.Interpretation.Bw))
            img = img.Colourspace(Enums.Interpretation.Srgb);
        if (img.HasAlpha())
        {
            var flat = img.Flatten(background: [255, 255, 255]);
            if (!ReferenceEquals(img, image)) img.Dispose();
            img = flat;
        }
        if (img.Format != Enums.BandFormat.Uchar)
        {
            var cast = img.Cast(Enums.BandFormat.Uchar);
            if (!ReferenceEquals(img, image)) img.Dispose();
            img = cast;
        }
        return ReferenceEquals(img, image) ? image.Copy() : img;
    }

    private static byte[] Save(Image image) => image.JpegsaveBuffer(q: Quality, optimizeCoding: true, keep: Enums.ForeignKeep.None);
}
