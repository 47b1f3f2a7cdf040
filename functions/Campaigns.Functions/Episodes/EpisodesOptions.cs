using Microsoft.Extensions.Options;

namespace Campaigns.Episodes;

/// <summary>Settings of the Episodes capability (section "Episodes").</summary>
public sealed class EpisodesOptions
{
    /// <summary>Table of the scheduler's due index (partition per UTC hour) and its cursor.</summary>
    public string DueTable { get; set; } = "episodedue";
    /// <summary>Queue of outbound webhook deliveries; dead letters go to &lt;queue&gt;-deadletter.</summary>
    public string WebhookQueue { get; set; } = "episode-webhooks";
    /// <summary>How long the previous secret keeps signing after a rotation, unless the rotation says otherwise.</summary>
    public int WebhookRotationOverlapHours { get; set; } = 24;
    public int WebhookMaxAttempts { get; set; } = 8;
    /// <summary>First retry delay; each further retry doubles it (capped at one hour).</summary>
    public int WebhookRetryBaseSeconds { get; set; } = 30;
    /// <summary>How far back the scheduler looks the first time it runs (no cursor yet).</summary>
    public int InitialLookbackHours { get; set; } = 24;
    /// <summary>Views a client address may report per minute.</summary>
    public int ViewsPerMinute { get; set; } = 120;
    /// <summary>Reactions a fan may send per minute.</summary>
    public int ReactionsPerMinute { get; set; } = 30;
}

public sealed class EpisodesOptionsValidator : IValidateOptions<EpisodesOptions>
{
    public ValidateOptionsResult Validate(string? name, EpisodesOptions o)
    {
        var errors = new List<string>();
        if (!System.Text.RegularExpressions.Regex.IsMatch(o.DueTable ?? "", "^[A-Za-z][A-Za-z0-9]{2,62}$"))
            errors.Add("Episodes__DueTable must be a table name (letters and digits, 3–63).");
        if (!System.Text.RegularExpressions.Regex.IsMatch(o.WebhookQueue ?? "", "^[a-z0-9](?!.*--)[a-z0-9-]{1,50}[a-z0-9]$"))
            errors.Add("Episodes__WebhookQueue must be a queue name (lowercase letters, digits, single hyphens, ≤ 52).");
        if (o.WebhookRotationOverlapHours is < 0 or > 24 * 30) errors.Add("Episodes__WebhookRotationOverlapHours must be 0..720.");
        if (o.WebhookMaxAttempts is < 1 or > 20) errors.Add("Episodes__WebhookMaxAttempts must be 1..20.");
        if (o.WebhookRetryBaseSeconds is < 0 or > 3600) errors.Add("Episodes__WebhookRetryBaseSeconds must be 0..3600.");
        if (o.InitialLookbackHours is < 1 or > 24 * 31) errors.Add("Episodes__InitialLookbackHours must be 1..744.");
        if (o.ViewsPerMinute < 1) errors.Add("Episodes__ViewsPerMinute must be ≥ 1.");
        if (o.ReactionsPerMinute < 1) errors.Add("Episodes__ReactionsPerMinute must be ≥ 1.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
