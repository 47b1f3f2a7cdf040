using System.Text;
using System.Text.RegularExpressions;

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

/// <summary>Azure Storage naming rules the settings are checked against.</summary>
public static partial class StorageNames
{
    [GeneratedRegex("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")] private static partial Regex Queue();

    /// <summary>3–63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.</summary>
    public static bool IsQueueName(string? name) => Queue().IsMatch(name ?? "");
}
