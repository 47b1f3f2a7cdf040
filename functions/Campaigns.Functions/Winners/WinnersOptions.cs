using System.Text;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Campaigns.Winners;

/// <summary>Settings of the Winners section (Winners__…).</summary>
public sealed class WinnersOptions
{
    /// <summary>Key of the pseudonymous ids in published lists (≥ 32 bytes). Locally derived from Auth__DevSigningKey when empty.</summary>
    public string? PseudonymKey { get; set; }
    /// <summary>Days a winner has to answer before "no_response" may promote the next alternate.</summary>
    public int ClaimDays { get; set; } = 14;
    /// <summary>Queue of webhook deliveries.</summary>
    public string NotifyQueue { get; set; } = WinnerNotifier.DefaultQueue;

    internal string? DevKeyFallback { get; set; }
    /// <summary>Webhooks__AllowHttpLoopback, copied in so a receiver's URL is judged when saved as deliveries will judge it.</summary>
    internal bool AllowHttpLoopback { get; set; }

    public byte[] PseudonymKeyBytes => !string.IsNullOrWhiteSpace(PseudonymKey)
        ? Encoding.UTF8.GetBytes(PseudonymKey)
        : HMACSHA256.HashData(Encoding.UTF8.GetBytes(DevKeyFallback ?? ""), "winners-pseudonym-key"u8);

    public TimeSpan ClaimPeriod => TimeSpan.FromDays(ClaimDays);
}

public sealed class WinnersOptionsValidator : IValidateOptions<WinnersOptions>
{
    public ValidateOptionsResult Validate(string? name, WinnersOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.PseudonymKey))
        {
            if (string.IsNullOrWhiteSpace(o.DevKeyFallback)) errors.Add("Setting 'Winners__PseudonymKey' is required (at least 32 bytes).");
        }
        else if (Encoding.UTF8.GetByteCount(o.PseudonymKey) < 32) errors.Add("Setting 'Winners__PseudonymKey' must be at least 32 bytes.");
        if (!Platform.StorageNames.IsQueueName(o.NotifyQueue))
            errors.Add("Setting 'Winners__NotifyQueue' must be a valid queue name (3–63 lowercase letters, digits, single hyphens).");
        if (o.ClaimDays is < 1 or > 365) errors.Add("Setting 'Winners__ClaimDays' must be between 1 and 365.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
