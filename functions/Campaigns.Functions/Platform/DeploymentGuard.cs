namespace Campaigns.Platform;

/// <summary>
/// Local conveniences that must never reach Azure: the dev signing key (anyone with the repo mints any token), the
/// <c>local</c> CAPTCHA (any token starting with "pass" verifies), <c>*</c> upload CORS and http webhooks to loopback. The program refuses to start
/// in Azure with any of them, naming the setting, instead of running open.
/// </summary>
public static class DeploymentGuard
{
    /// <summary>App Service and Functions set these on every instance; nothing sets them locally.</summary>
    public static bool InAzure(IConfiguration config)
        => !string.IsNullOrEmpty(config["WEBSITE_INSTANCE_ID"]) || !string.IsNullOrEmpty(config["WEBSITE_SITE_NAME"]);

    public static IReadOnlyList<string> Problems(bool inAzure, string? devSigningKey, string captchaProvider, string uploadCorsOrigins,
        bool webhooksAllowHttpLoopback = false)
    {
        if (!inAzure) return [];
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(devSigningKey))
            problems.Add("Setting 'Auth__DevSigningKey' must not be set in Azure: anyone with it can mint tokens. Use 'Auth__Authority'.");
        if (captchaProvider == "local")
            problems.Add("Setting 'Voting__CaptchaProvider' is 'local' (test tokens verify): use 'siteverify' in Azure.");
        if (uploadCorsOrigins.Split(',', StringSplitOptions.TrimEntries).Contains("*"))
            problems.Add("Setting 'Submissions__UploadCorsOrigins' is '*': list the microsites' origins in Azure.");
        if (webhooksAllowHttpLoopback)
            problems.Add("Setting 'Webhooks__AllowHttpLoopback' is true (tests only): webhooks could reach the app's own endpoints. Set it to false in Azure.");
        return problems;
    }

    /// <summary>Reads the raw settings with the options classes' defaults (binding here would run their validation early).</summary>
    public static void ThrowIfUnsafe(IConfiguration config)
    {
        var problems = Problems(InAzure(config), config["Auth:DevSigningKey"],
            config["Voting:CaptchaProvider"] ?? new Voting.VotingOptions().CaptchaProvider,
            config["Submissions:UploadCorsOrigins"] ?? new Submissions.SubmissionsOptions().UploadCorsOrigins,
            bool.TryParse(config["Webhooks:AllowHttpLoopback"], out var loopback) && loopback);
        if (problems.Count > 0) throw new InvalidOperationException("Refusing to start in Azure: " + string.Join(" ", problems));
    }
}
