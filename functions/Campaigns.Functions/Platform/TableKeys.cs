using System.Text;

namespace Campaigns.Platform;

/// <summary>Table keys may not contain '/', '\\', '#', '?' or control characters; token subjects can.</summary>
public static class TableKeys
{
    public static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var ch in value)
        {
            if (ch is '/' or '\\' or '#' or '?' or '%' || char.IsControl(ch)) sb.Append('%').Append(((int)ch).ToString("X2"));
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    /// <summary>Row keys that sort newest first.</summary>
    public static string NewestFirst(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19");
}
