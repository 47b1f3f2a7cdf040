using System.Buffers.Binary;
using System.IO.Compression;
using NetVips;

namespace Campaigns.Tests.Submissions;

/// <summary>Test images made in code with NetVips (no binary fixtures).</summary>
public static class TestImages
{
    /// <summary>Left half red, right half blue, with EXIF (orientation, GPS, artist) and XMP kept on save.</summary>
    public static byte[] TaggedJpeg(int width = 400, int height = 200, int orientation = 1)
    {
        using var left = Image.Black(width, height, bands: 3).NewFromImage(255, 0, 0);
        using var right = Image.Black(width - width / 2, height, bands: 3).NewFromImage(0, 0, 255);
        using var joined = left.Insert(right, width / 2, 0);
        using var srgb = joined.Copy(interpretation: Enums.Interpretation.Srgb);
        using var tagged = srgb.Mutate(m =>
        {
            m.Set(GValue.GIntType, "orientation", orientation);
            m.Set(GValue.GStrType, "exif-ifd3-GPSLatitude", "48/1 51/1 2400/100");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLatitudeRef", "N");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLongitude", "2/1 21/1 300/100");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLongitudeRef", "E");
            m.Set(GValue.GStrType, "exif-ifd0-Artist", "Jane Fan Secret");
            m.Set(GValue.BlobType, "xmp-data", System.Text.Encoding.UTF8.GetBytes("<x:xmpmeta xmlns:x='adobe:ns:meta/'>xmp-secret-location</x:xmpmeta>"));
        });
        return tagged.JpegsaveBuffer(q: 90, keep: Enums.ForeignKeep.All);
    }

    /// <summary>A noisy photo-like JPEG (noise makes the scan data large, so cutting it truncates pixels, not headers).</summary>
    public static byte[] NoisyJpeg(int width, int height, int q = 85)
    {
        using var noise = Image.Gaussnoise(width, height, mean: 128, sigma: 40);
        using var rgb = noise.Bandjoin(noise.Rot180().Resize(1), noise.Flip(Enums.Direction.Horizontal));
        using var u8 = rgb.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        return u8.JpegsaveBuffer(q: q);
    }

    public static byte[] Png(int width, int height, bool alpha = false)
    {
        using var img = Image.Black(width, height, bands: alpha ? 4 : 3).NewFromImage(alpha ? new double[] { 0, 128, 0, 128 } : new double[] { 0, 128, 0 });
        using var srgb = img.Copy(interpretation: Enums.Interpretation.Srgb).Cast(Enums.BandFormat.Uchar);
        return srgb.PngsaveBuffer();
    }

    public static byte[] Webp(int width, int height)
    {
        using var img = Image.Black(width, height, bands: 3).NewFromImage(10, 20, 200).Copy(interpretation: Enums.Interpretation.Srgb).Cast(Enums.BandFormat.Uchar);
        return img.WebpsaveBuffer();
    }

    /// <summary>
    /// A decompression bomb: a valid PNG whose header says 50000×50000 (7.5 GB of RGB pixels) with a few MB of
    /// highly compressible zero rows. Only a header probe keeps this cheap.
    /// </summary>
    public static byte[] PngBomb(int side = 50_000)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), side);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), side);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        Chunk(ms, "IHDR", ihdr);
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + side * 3];
            for (var i = 0; i < 200; i++) zs.Write(row);
        }
        Chunk(ms, "IDAT", z.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    public static byte[] Html => System.Text.Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>");

    /// <summary>The first bytes of an iPhone HEIC (ftyp box, brand heic).</summary>
    public static byte[] HeicHeader => [0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'h', (byte)'e', (byte)'i', (byte)'c',
        0, 0, 0, 0, (byte)'m', (byte)'i', (byte)'f', (byte)'1', (byte)'h', (byte)'e', (byte)'i', (byte)'c', 0, 0, 0, 8];

    public static byte[] Mp4Header => [0, 0, 0, 0x20, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m',
        0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'i', (byte)'s', (byte)'o', (byte)'2', (byte)'m', (byte)'p', (byte)'4', (byte)'1',
        0, 0, 0, 8, (byte)'f', (byte)'r', (byte)'e', (byte)'e'];

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = Crc32(typeBytes.Concat(data).ToArray());
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, crc);
        s.Write(c);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
