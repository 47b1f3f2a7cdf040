using Campaigns.Submissions;
using NetVips;

namespace Campaigns.Tests.Submissions;

public sealed class ImagePipelineTests
{
    private static readonly ImageLimits Limits = new(50_000_000, 16_384);

    [Fact]
    public void Derivatives_carry_no_exif_gps_xmp_or_other_metadata()
    {
        var input = TestImages.TaggedJpeg(2000, 1000);
        using (var original = Image.NewFromBuffer(input))
        {
            // The fixture really carries what must be removed.
            Assert.Contains(original.GetFields(), f => f.StartsWith("exif-ifd3-GPS", StringComparison.Ordinal));
            Assert.Contains("xmp-data", original.GetFields());
        }

        var outcome = ImagePipeline.Process(input, Limits);

        Assert.True(outcome.Ok, outcome.ReasonText);
        Assert.Equal([ImagePipeline.Small, ImagePipeline.Large], outcome.Derivatives.Select(d => d.Box).Order().ToArray());
        foreach (var d in outcome.Derivatives)
        {
            using var back = Image.NewFromBuffer(d.Jpeg);
            var fields = back.GetFields();
            Assert.DoesNotContain(fields, f => f.StartsWith("exif", StringComparison.Ordinal) || f.StartsWith("xmp", StringComparison.Ordinal)
                || f.StartsWith("iptc", StringComparison.Ordinal) || f == "orientation" || f.StartsWith("icc", StringComparison.Ordinal)
                || f.Contains("comment", StringComparison.Ordinal));
            var raw = System.Text.Encoding.Latin1.GetString(d.Jpeg);
            Assert.DoesNotContain("Exif", raw);
            Assert.DoesNotContain("GPS", raw);
            Assert.DoesNotContain("Jane Fan Secret", raw);
            Assert.DoesNotContain("xmp-secret-location", raw);
            Assert.Equal(d.Box, Math.Max(back.Width, back.Height));
        }
    }

    [Theory]
    [InlineData(6)] // rotate 90° clockwise to display
    [InlineData(8)] // rotate 90° anticlockwise to display
    [InlineData(3)] // rotate 180°
    public void Orientation_is_applied_to_the_pixels(int orientation)
    {
        // Stored left red / right blue; the EXIF tag says how to turn it for display.
        var outcome = ImagePipeline.Process(TestImages.TaggedJpeg(400, 200, orientation), Limits);
        Assert.True(outcome.Ok, outcome.ReasonText);
        using var img = Image.NewFromBuffer(outcome.Derivatives.Single(d => d.Box == ImagePipeline.Small).Jpeg);
        bool Red(double[] p) => p[0] > 200 && p[2] < 60;
        bool Blue(double[] p) => p[2] > 200 && p[0] < 60;
        switch (orientation)
        {
            case 6: // 90° CW: the left (red) half ends on top
                Assert.True(img.Height > img.Width);
                Assert.True(Red(img.Getpoint(img.Width / 2, img.Height / 8)) && Blue(img.Getpoint(img.Width / 2, img.Height * 7 / 8)));
                break;
            case 8: // 90° CCW: the left (red) half ends at the bottom
                Assert.True(img.Height > img.Width);
                Assert.True(Blue(img.Getpoint(img.Width / 2, img.Height / 8)) && Red(img.Getpoint(img.Width / 2, img.Height * 7 / 8)));
                break;
            case 3: // 180°: red on the right
                Assert.True(img.Width > img.Height);
                Assert.True(Blue(img.Getpoint(img.Width / 8, img.Height / 2)) && Red(img.Getpoint(img.Width * 7 / 8, img.Height / 2)));
                break;
        }
    }

    [Fact]
    public void A_large_rotated_jpeg_is_decoded_at_reduced_scale_and_still_fills_the_box_upright()
    {
        // 4000×2000 takes the half-scale decode (2000×1000), then 1080×540, then turned upright by orientation 6.
        Assert.Equal(2, ImagePipeline.JpegShrink(4000, 2000));
        var outcome = ImagePipeline.Process(TestImages.TaggedJpeg(4000, 2000, orientation: 6), Limits);
        Assert.True(outcome.Ok, outcome.ReasonText);
        var large = outcome.Derivatives.Single(d => d.Box == ImagePipeline.Large);
        Assert.Equal((540, 1080), (large.Width, large.Height));
        using var img = Image.NewFromBuffer(large.Jpeg);
        Assert.Equal((540, 1080), (img.Width, img.Height));
        var top = img.Getpoint(270, 100);
        var bottom = img.Getpoint(270, 980);
        Assert.True(top[0] > 200 && top[2] < 60, $"top is {string.Join(",", top)}: the left (red) half belongs on top");
        Assert.True(bottom[2] > 200 && bottom[0] < 60, $"bottom is {string.Join(",", bottom)}");
    }

    [Theory]
    [InlineData(4000, 3000, 2)]
    [InlineData(3000, 4000, 2)]
    [InlineData(2159, 1000, 1)] // half would be 1079 px: below the 1080 box, so no shrink
    [InlineData(2160, 1000, 2)]
    [InlineData(4320, 100, 4)]
    [InlineData(16384, 16384, 8)] // libjpeg scales by 1/8 at most
    [InlineData(1080, 1080, 1)]
    [InlineData(200, 100, 1)]
    public void Jpeg_decode_shrink_never_goes_below_the_large_box(int width, int height, int expected)
    {
        var shrink = ImagePipeline.JpegShrink(width, height);
        Assert.Equal(expected, shrink);
        Assert.True(Math.Max(width, height) / shrink >= Math.Min(ImagePipeline.Large, Math.Max(width, height)));
    }

    [Fact]
    public void Display_p3_photos_are_converted_to_srgb_before_the_profile_is_stripped()
    {
        // A red stored in Display P3 (as phones save it). Shown without its profile it would look dull: the pipeline
        // must convert the pixels, because the derivatives carry no profile.
        using var red = (Image.Black(1600, 1200, bands: 3) + new double[] { 200, 40, 40 }).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using var p3 = red.IccTransform("p3", inputProfile: "srgb");
        var input = p3.JpegsaveBuffer(q: 95, keep: Enums.ForeignKeep.All);
        using (var stored = Image.NewFromBuffer(input))
        {
            Assert.Contains("icc-profile-data", stored.GetFields());
            Assert.True(stored.Getpoint(10, 10)[0] < 190, "the fixture holds P3 values, not sRGB ones");
        }

        var outcome = ImagePipeline.Process(input, Limits);

        Assert.True(outcome.Ok, outcome.ReasonText);
        foreach (var d in outcome.Derivatives)
        {
            using var img = Image.NewFromBuffer(d.Jpeg);
            Assert.DoesNotContain("icc-profile-data", img.GetFields());
            var p = img.Getpoint(img.Width / 2, img.Height / 2);
            Assert.True(Math.Abs(p[0] - 200) <= 6 && Math.Abs(p[1] - 40) <= 8 && Math.Abs(p[2] - 40) <= 8, $"sRGB red expected, got {string.Join(",", p)}");
        }
    }

    [Fact]
    public void A_50000_square_png_bomb_is_refused_from_its_header_without_decoding()
    {
        var bomb = TestImages.PngBomb();
        var before = NetVips.Stats.Mem;
        var outcome = ImagePipeline.Process(bomb, Limits);
        Assert.Equal("image_too_large", outcome.ReasonCode);
        Assert.Contains("50000×50000", outcome.ReasonText);
        // libvips' own allocation tracking: decoding even one band of it would need gigabytes.
        Assert.True(NetVips.Stats.Mem - before < 64 * 1024 * 1024, $"libvips holds {NetVips.Stats.Mem - before} bytes more");
        Assert.Empty(outcome.Derivatives);
    }

    [Fact]
    public void Html_named_jpg_is_refused_by_its_bytes()
    {
        var outcome = ImagePipeline.Process(TestImages.Html, Limits);
        Assert.Equal("unsupported_format", outcome.ReasonCode);
        Assert.Null(ContentSniffer.Sniff(TestImages.Html));
    }

    [Fact]
    public void Truncated_jpeg_is_refused_as_unreadable_image()
    {
        var full = TestImages.NoisyJpeg(1200, 900);
        Assert.True(ImagePipeline.Process(full, Limits).Ok);
        var truncated = full[..(full.Length * 6 / 10)];
        var outcome = ImagePipeline.Process(truncated, Limits);
        Assert.Equal("unreadable_image", outcome.ReasonCode);
        Assert.Contains("could not be read", outcome.ReasonText);

        // The same through the reduced-scale decode that large photos take.
        var large = TestImages.NoisyJpeg(4000, 3000);
        Assert.Equal(2, ImagePipeline.JpegShrink(4000, 3000));
        Assert.Equal("unreadable_image", ImagePipeline.Process(large[..(large.Length * 6 / 10)], Limits).ReasonCode);
    }

    [Fact]
    public void An_upload_held_in_part_of_a_larger_buffer_is_read_as_exactly_that_part()
    {
        // Downloads arrive as a slice of the storage client's buffer: the pipeline reads that slice, not the array behind it.
        var full = TestImages.NoisyJpeg(1200, 900);
        var padded = new byte[full.Length + 16];
        full.CopyTo(padded, 16);
        var whole = ImagePipeline.Process(new ReadOnlyMemory<byte>(padded, 16, full.Length), Limits);
        Assert.True(whole.Ok, whole.ReasonText);
        Assert.Equal((1080, 810), (whole.Width, whole.Height));

        // The first 60 %, with the rest of the photo still in the array right after the slice: still truncated.
        var cut = ImagePipeline.Process(new ReadOnlyMemory<byte>(full, 0, full.Length * 6 / 10), Limits);
        Assert.Equal("unreadable_image", cut.ReasonCode);
    }

    [Fact]
    public void Garbage_after_a_jpeg_signature_is_unreadable_not_an_exception()
    {
        var junk = new byte[4096];
        new Random(7).NextBytes(junk);
        junk[0] = 0xFF; junk[1] = 0xD8; junk[2] = 0xFF;
        Assert.Equal("unreadable_image", ImagePipeline.Process(junk, Limits).ReasonCode);
    }

    [Fact]
    public void Heic_is_refused_with_a_clear_message()
    {
        var outcome = ImagePipeline.Process(TestImages.HeicHeader, Limits);
        Assert.Equal("heic_not_supported", outcome.ReasonCode);
        Assert.Contains("JPEG", outcome.ReasonText);
    }

    [Fact]
    public void Png_with_alpha_and_webp_are_accepted_and_become_jpeg()
    {
        foreach (var input in new[] { TestImages.Png(1600, 1200, alpha: true), TestImages.Webp(500, 500) })
        {
            var outcome = ImagePipeline.Process(input, Limits);
            Assert.True(outcome.Ok, outcome.ReasonText);
            Assert.All(outcome.Derivatives, d => Assert.Equal(ContentSniffer.Jpeg, ContentSniffer.Sniff(d.Jpeg)));
        }
        var large = ImagePipeline.Process(TestImages.Png(1600, 1200), Limits).Derivatives.Single(d => d.Box == ImagePipeline.Large);
        Assert.Equal((1080, 810), (large.Width, large.Height));
    }

    [Fact]
    public void Small_images_are_not_enlarged_and_gif_is_not_on_the_allow_list()
    {
        var outcome = ImagePipeline.Process(TestImages.TaggedJpeg(200, 100), Limits);
        Assert.Equal((200, 100), (outcome.Width, outcome.Height));
        var gif = Image.Black(10, 10).GifsaveBuffer();
        Assert.Equal("unsupported_format", ImagePipeline.Process(gif, Limits).ReasonCode);
    }

    [Fact]
    public void Sniffer_reads_types_by_magic_bytes()
    {
        Assert.Equal(ContentSniffer.Jpeg, ContentSniffer.Sniff(TestImages.TaggedJpeg()));
        Assert.Equal(ContentSniffer.Png, ContentSniffer.Sniff(TestImages.Png(10, 10)));
        Assert.Equal(ContentSniffer.Webp, ContentSniffer.Sniff(TestImages.Webp(10, 10)));
        Assert.Equal(ContentSniffer.Heic, ContentSniffer.Sniff(TestImages.HeicHeader));
        Assert.Equal(ContentSniffer.Mp4, ContentSniffer.Sniff(TestImages.Mp4Header));
        Assert.Equal(ContentSniffer.Webm, ContentSniffer.Sniff(new byte[] { 0x1A, 0x45, 0xDF, 0xA3, 0, 0 }));
        Assert.Equal(ContentSniffer.Gif, ContentSniffer.Sniff("GIF89a"u8.ToArray().Concat(new byte[10]).ToArray()));
        Assert.Null(ContentSniffer.Sniff([]));
    }
}
