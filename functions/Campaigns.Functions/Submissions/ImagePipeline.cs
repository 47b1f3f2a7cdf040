using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
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
    private const string JpegLoader = "VipsForeignLoadJpegSource";
    private static readonly string[] AllowedLoaders = [JpegLoader, "VipsForeignLoadPngSource", "VipsForeignLoadWebpSource"];

    static ImagePipeline()
    {
        // A server decodes each upload once: libvips' operation cache would only hold on to memory.
        Cache.Max = 0;
        Cache.MaxMem = 0;
        Cache.MaxFiles = 0;
    }

    /// <summary>
    /// Call once at start so the native library loads (and fails, if it must) before traffic. Images are processed
    /// <paramref name="imagesAtOnce"/> at a time, each on its share of the cores: libvips' own worker threads beyond
    /// that only contend (measured on 2 cores, 2 images at once: 1 thread each is ~5 % faster than 2).
    /// </summary>
    public static string Init(int imagesAtOnce)
    {
        NetVips.NetVips.Concurrency = Math.Max(1, Environment.ProcessorCount / Math.Max(1, imagesAtOnce));
        return $"libvips {NetVips.NetVips.Version(0)}.{NetVips.NetVips.Version(1)}.{NetVips.NetVips.Version(2)}, {NetVips.NetVips.Concurrency} thread(s) per image";
    }

    public static ImageOutcome Process(ReadOnlyMemory<byte> data, ImageLimits limits)
    {
        var sniffed = ContentSniffer.Sniff(data.Span);
        if (sniffed is ContentSniffer.Heic)
            return ImageOutcome.Refused("heic_not_supported", "HEIC photos are not supported: please send a JPEG (on iPhone: Settings › Camera › Formats › Most Compatible).");
        if (!ContentSniffer.IsImageKind(sniffed))
            return ImageOutcome.Refused("unsupported_format", "Only JPEG, PNG and WebP photos are accepted.");

        using var source = OpenSource(data);
        string? loader;
        try { loader = Image.FindLoadSource(source); }
        catch (VipsException) { loader = null; }
        if (loader is null) return Unreadable();
        if (!AllowedLoaders.Contains(loader)) return ImageOutcome.Refused("unsupported_format", "Only JPEG, PNG and WebP photos are accepted.");

        int width, height;
        try
        {
            // Header only: libvips reads dimensions without decoding pixels.
            using var header = Image.NewFromSource(source, access: Enums.Access.Sequential);
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
            using var thumb = loader == JpegLoader ? JpegDisplayImage(source, width, height) : Thumbnail(source);
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

    /// <summary>
    /// libvips reads a whole array where it lies (pinned), anything else from one native copy. Image.NewFromBuffer
    /// would copy it into a blob that it reports to the GC as memory pressure, which forced a full, process-wide
    /// collection every image or two (measured: 43–81 gen-2 GCs in 90 images, none since). The pin ends when the Source
    /// is disposed, so every image read from it is evaluated within <see cref="Process"/>, which returns bytes only.
    /// </summary>
    private static Source OpenSource(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var whole) && whole.Offset == 0 && whole.Count == whole.Array!.Length
            ? Source.NewFromMemory(whole.Array)
            : Source.NewFromMemory(data.Span);

    /// <summary>
    /// JPEG → upright image at most <see cref="Large"/> px a side. libjpeg decodes straight at 1/2, 1/4 or 1/8 scale
    /// (DCT scaling), so a 12 MP photo is decoded at 2000×1500, not 4000×3000; libvips' own thumbnail declines that
    /// when less than 2× reduction would remain and decodes at full size (measured: 153 vs 113 CPU ms on a 4 MB 12 MP JPEG).
    /// </summary>
    private static Image JpegDisplayImage(Source source, int width, int height)
    {
        var shrink = JpegShrink(width, height);
        // The typed failOn argument is ignored by some operations (libvips #5195): the loader option string is what works.
        using var loaded = Image.NewFromSource(source, $"[shrink={shrink},fail_on=error]", access: Enums.Access.Sequential);
        var scale = (double)Large / Math.Max(loaded.Width, loaded.Height);
        using var resized = scale < 1 ? loaded.Resize(scale) : loaded.Copy();
        // Decoded here (truncation fails here); rotating needs the whole image, so it comes after.
        using var decoded = resized.CopyMemory();
        using var upright = decoded.Autorot();
        // Phones tag photos with Display P3 and similar: convert the pixels, as the profile is stripped on save.
        return upright.Contains("icc-profile-data") ? upright.IccTransform("srgb", embedded: true) : upright.Copy();
    }

    /// <summary>The largest JPEG decode shrink (1, 2, 4 or 8) that keeps the long side at or above <see cref="Large"/>.</summary>
    public static int JpegShrink(int width, int height)
    {
        var longSide = Math.Max(width, height);
        var shrink = 1;
        while (shrink < 8 && longSide / (shrink * 2) >= Large) shrink *= 2;
        return shrink;
    }

    /// <summary>PNG and WebP: libvips' thumbnail (shrink-on-load where the format has it, alpha premultiplied while resizing).</summary>
    private static Image Thumbnail(Source source) => Image.ThumbnailSource(source, Large, "[fail_on=error]", height: Large, size: Enums.Size.Down);

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

/// <summary>Loads libvips at start (a missing native library fails the start, not the first upload) and sizes its threads.</summary>
internal sealed class ImagePipelineSetup(IOptions<SubmissionsOptions> options, ILogger<ImagePipelineSetup> logger) : IStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        logger.LogInformation("Image pipeline: {Library}", ImagePipeline.Init(options.Value.ImageConcurrency));
        return Task.CompletedTask;
    }
}
