using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Campaigns.Voting;

/// <summary>Settings of the Voting capability (section <c>Voting</c>).</summary>
public sealed class VotingOptions
{
    /// <summary>Queue carrying group-committed vote batches to the counter.</summary>
    public string Queue { get; set; } = "votes";
    /// <summary>Counter shards per round (fixed per round when the round is created): partitions the tally so no partition is hot.</summary>
    public int CounterShards { get; set; } = 64;
    /// <summary>Counter transactions in flight at once per instance; fewer means bigger transactions (fewer storage operations per vote).</summary>
    public int CounterConcurrency { get; set; } = 4;
    /// <summary>Concurrent group-commit flushes; fewer means bigger batches (fewer storage operations per vote).</summary>
    public int FlushConcurrency { get; set; } = 1;
    /// <summary>Under load, how long a flush waits for more votes to fill its queue message (0 = never waits).</summary>
    public int FlushLingerMs { get; set; } = 20;
    /// <summary>Per fan and campaign: ballots accepted per minute (token bucket, per instance).</summary>
    public int PerFanPerMinute { get; set; } = 10;
    /// <summary>Per client IP (per /64 for IPv6): votes per minute without a CAPTCHA; beyond it a CAPTCHA is required, not a lockout.</summary>
    public int PerIpPerMinute { get; set; } = 600;
    /// <summary>CAPTCHA verifier: <c>local</c> (dev/tests: tokens starting with "pass" verify) or <c>siteverify</c>.</summary>
    public string CaptchaProvider { get; set; } = "local";
    /// <summary>Turnstile/hCaptcha/reCAPTCHA-compatible siteverify URL (form post: secret, response, remoteip → {"success":bool}).</summary>
    public string? CaptchaSiteverifyUrl { get; set; }
    public string? CaptchaSecret { get; set; }
    /// <summary>ECDSA P-256 private key (PKCS#8, PEM or Base64) that signs reveal snapshots. Reveals are refused without it.</summary>
    public string? RevealSigningKey { get; set; }
}

public sealed class VotingOptionsValidator : IValidateOptions<VotingOptions>
{
    public ValidateOptionsResult Validate(string? name, VotingOptions o)
    {
        var errors = new List<string>();
        if (!Platform.StorageNames.IsQueueName(o.Queue)) errors.Add("Setting 'Voting__Queue' must be a queue name (3–63 lowercase letters, digits, hyphens).");
        if (o.CounterShards is < 1 or > 64) errors.Add("Setting 'Voting__CounterShards' must be 1..64.");
        if (o.FlushConcurrency is < 1 or > 16) errors.Add("Setting 'Voting__FlushConcurrency' must be 1..16.");
        if (o.FlushLingerMs is < 0 or > 200) errors.Add("Setting 'Voting__FlushLingerMs' must be 0..200.");
        if (o.CounterConcurrency is < 1 or > 64) errors.Add("Setting 'Voting__CounterConcurrency' must be 1..64.");
        if (o.PerFanPerMinute < 1) errors.Add("Setting 'Voting__PerFanPerMinute' must be ≥ 1.");
        if (o.PerIpPerMinute < 1) errors.Add("Setting 'Voting__PerIpPerMinute' must be ≥ 1.");
        if (o.CaptchaProvider is not ("local" or "siteverify")) errors.Add("Setting 'Voting__CaptchaProvider' must be 'local' or 'siteverify'.");
        if (o.CaptchaProvider == "siteverify")
        {
            if (!Uri.TryCreate(o.CaptchaSiteverifyUrl, UriKind.Absolute, out var u) || u.Scheme != "https")
                errors.Add("Setting 'Voting__CaptchaSiteverifyUrl' must be an https URL with Voting__CaptchaProvider=siteverify.");
            if (string.IsNullOrWhiteSpace(o.CaptchaSecret)) errors.Add("Setting 'Voting__CaptchaSecret' is required with Voting__CaptchaProvider=siteverify.");
        }
        if (!string.IsNullOrWhiteSpace(o.RevealSigningKey))
        {
            try { using var k = RevealSigner.LoadKey(o.RevealSigningKey); }
            catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
            {
                errors.Add("Setting 'Voting__RevealSigningKey' must be an ECDSA P-256 private key (PKCS#8 PEM or Base64).");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
