using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Campaigns.Platform;

/// <summary>
/// The Idempotency-Key header of POSTs that create something with a server-chosen id. The key becomes the id (a hash of
/// who sent it, where, and the key), so a retried request finds what the first one created instead of making a second
/// one: insert-if-absent on a deterministic id, with no separate replay store that could part from the write.
/// </summary>
public static partial class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")] public static partial Regex Pattern();

    /// <summary>The header's value (null when absent), or a 400 problem when it is not 1–64 letters, digits, '-' or '_'.</summary>
    public static string? Read(HttpRequest request)
    {
        var values = request.Headers[Header];
        if (values.Count == 0) return null;
        if (values.Count > 1 || values[0] is not { } key || !Pattern().IsMatch(key))
            throw new ProblemException(ApiProblem.Validation(Header, "Use 1–64 letters, digits, '-' or '_'.", "invalid_idempotency_key"));
        return key;
    }

    /// <summary>A lowercase hex id for the key in its scope (caller, resource): the same inputs always give the same id.</summary>
    public static string Id(string key, int length, params string[] scope)
    {
        var text = string.Join('\n', scope.Append(key));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..length];
    }
}
