using Campaigns.Platform;
using Microsoft.Extensions.Options;

namespace Campaigns.DataRights;

public sealed class DataRightsOptions
{
    public const string Section = "DataRights";
    /// <summary>Queue of erasure jobs (one message per request; retried, then parked in its poison queue).</summary>
    public string ErasureQueue { get; set; } = "data-erasure";
    /// <summary>How long a winner's slot keeps the fan id after an erasure, for prize fulfilment and its proof.</summary>
    public int PrizeKeepDays { get; set; } = 1095;
    /// <summary>How long a fraud decision (an invalidated vote row) is kept after an erasure, as evidence.</summary>
    public int FraudKeepDays { get; set; } = 365;
}

public sealed class DataRightsOptionsValidator : IValidateOptions<DataRightsOptions>
{
    public ValidateOptionsResult Validate(string? name, DataRightsOptions o)
    {
        var errors = new List<string>();
        if (!StorageNames.IsQueueName(o.ErasureQueue)) errors.Add("Setting 'DataRights__ErasureQueue' must be a storage queue name.");
        if (o.PrizeKeepDays is < 1 or > 3650) errors.Add("Setting 'DataRights__PrizeKeepDays' must be 1–3650 days.");
        if (o.FraudKeepDays is < 1 or > 3650) errors.Add("Setting 'DataRights__FraudKeepDays' must be 1–3650 days.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
