using Campaigns.Hosting;
using Microsoft.Extensions.Options;

namespace Campaigns.Privacy;

/// <summary>Retention that runs by itself: one validated options class and the daily retention timer (docs/privacy.md).</summary>
public static class PrivacyApi
{
    public const string RetentionTimer = "PrivacyRetention";
    /// <summary>Daily at 03:30 UTC, off the campaigns' evening peaks.</summary>
    public const string RetentionSchedule = "0 30 3 * * *";

    public static void AddPrivacy(this WebApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddOptions<PrivacyOptions>().Bind(builder.Configuration.GetSection("Privacy")).ValidateOnStart();
        s.AddSingleton<IValidateOptions<PrivacyOptions>, PrivacyOptionsValidator>();
        s.AddSingleton<Voting.RefusalIpRetention>();
        // Errors escape so the host retries at the next occurrence; each step is idempotent.
        s.AddTimerFunction(RetentionTimer, RetentionSchedule, async inv =>
        {
            var now = inv.Service<TimeProvider>().GetUtcNow();
            var o = inv.Service<IOptions<PrivacyOptions>>().Value;
            await inv.Service<Voting.RefusalIpRetention>().RemoveIpKeysAsync(RetentionRules.RefusalIpCutoff(now, o), inv.Cancellation);
        });
    }
}
