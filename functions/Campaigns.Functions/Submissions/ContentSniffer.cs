namespace Campaigns.Submissions;

/// <summary>Content type by the file's first bytes, never by its name or the type the browser declared.</summary>
public static class ContentSniffer
{
    public const string Jpeg = "image/jpeg", Png = "image/png", Webp = "image/webp", Heic = "image/heic", Avif = "image/avif",
        Gif = "image/gif", Mp4 = "video/mp4", QuickTime = "video/quicktime", Webm = "video/webm";

    public static readonly string[] ImageTypes = [Jpeg, Png, Webp];
    public static readonly string[] VideoTypes = [Mp4, QuickTime, Webm];

    /// <summary>How many leading bytes <see cref="Sniff"/> needs.</summary>
    public const int HeaderBytes = 64;

    public static string? Sniff(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Jpeg;
        if (b.Length >= 8 && b[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })) return Png;
        if (b.Length >= 12 && Ascii(b[..4]) == "RIFF" && Ascii(b[8..12]) == "WEBP") return Webp;
        if (b.Length >= 6 && Ascii(b[..4]) == "GIF8") return Gif;
        if (b.Length >= 4 && b[0] == 0x1A && b[1] == 0x45 && b[2] == 0xDF && b[3] == 0xA3) return Webm;
        if (b.Length >= 12 && Ascii(b[4..8]) == "ftyp")
        {
            var brand = Ascii(b[8..12]);
            return brand switch
            {
                "heic" or "heix" or "hevc" or "hevx" or "heim" or "heis" or "mif1" or "msf1" => Heic,
                "avif" or "avis" => Avif,
                "qt  " => QuickTime,
                "isom" or "iso2" or "iso4" or "iso5" or "iso6" or "mp41" or "mp42" or "avc1" or "M4V " or "dash" or "MSNV" or "3gp4" or "3gp5" => Mp4,
                _ => null,
            };
        }
        return null;
    }

    public static bool IsImageKind(string? type) => type is not null && ImageTypes.Contains(type);
    public static bool IsVideoKind(string? type) => type is not null && VideoTypes.Contains(type);

    private static string Ascii(ReadOnlySpan<byte> b)
    {
        Span<char> c = stackalloc char[b.Length];
        for (var i = 0; i < b.Length; i++) c[i] = b[i] is >= 0x20 and < 0x7F ? (char)b[i] : '?';
        return new string(c);
    }
}
