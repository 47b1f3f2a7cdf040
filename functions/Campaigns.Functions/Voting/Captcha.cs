using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

/// <summary>Checks a CAPTCHA token. Pluggable: a siteverify-compatible service in production, a local verifier for dev and tests.</summary>
public interface ICaptchaVerifier
{
    Task<bool> VerifyAsync(string token, string? remoteIp, CancellationToken ct);
}

/// <summary>Dev and tests only: a token verifies when it starts with "pass".</summary>
public sealed class LocalCaptchaVerifier : ICaptchaVerifier
{
    public Task<bool> VerifyAsync(string token, string? remoteIp, CancellationToken ct)
        => Task.FromResult(token.StartsWith("pass", StringComparison.Ordinal));
}

/// <summary>
/// Cloudflare Turnstile, hCaptcha and reCAPTCHA share one protocol: POST form (secret, response, remoteip) to the
/// siteverify URL, answer {"success": true|false, ...}. A verifier outage refuses the token (fails closed).
/// </summary>
public sealed class SiteverifyCaptchaVerifier(HttpClient http, IOptions<VotingOptions> options) : ICaptchaVerifier
{
    public async Task<bool> VerifyAsync(string token, string? remoteIp, CancellationToken ct)
    {
        var o = options.Value;
        var form = new Dictionary<string, string> { ["secret"] = o.CaptchaSecret!, ["response"] = token };
        if (remoteIp is not null) form["remoteip"] = remoteIp;
        using var response = await http.PostAsync(o.CaptchaSiteverifyUrl, new FormUrlEncodedContent(form), ct);
        if (!response.IsSuccessStatusCode) return false;
        using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
        return doc.RootElement.TryGetProperty("success", out var s) && s.ValueKind == JsonValueKind.True;
    }
}
