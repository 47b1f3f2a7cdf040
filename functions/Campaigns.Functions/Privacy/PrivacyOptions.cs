using Microsoft.Extensions.Options;

namespace Campaigns.Privacy;

/// <summary>Retention periods (section <c>Privacy</c>): how long personal data is kept before timers remove it (docs/privacy.md).</summary>
public sealed class PrivacyOptions
{
    /// <summary>Days a refused vote keeps the client's IP key (fraud evidence); then the key is removed, the refusal kept.</summary>
    public int RefusalIpDays { get; set; } = 30;
    /// <summary>Days after a campaign ends that its fans' data is kept (disputes, prize fulfilment); then it is erased.</summary>
    public int FanDataDaysAfterEnd { get; set; } = 180;
}

public sealed class PrivacyOptionsValidator : IValidateOptions<PrivacyOptions>
{
    public ValidateOptionsResult Validate(string? name, PrivacyOptions o)
    {
        var errors = new List<string>();
        if (o.RefusalIpDays is < 1 or > 365) errors.Add("Setting 'Privacy__RefusalIpDays' must be 1..365.");
        if (o.FanDataDaysAfterEnd is < 1 or > 3650) errors.Add("Setting 'Privacy__FanDataDaysAfterEnd' must be 1..3650.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
