using System.Security.Claims;
using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Workspaces;

namespace Campaigns.Fans;

/// <summary>Fan profiles and per-campaign consent, read by other capabilities through <see cref="IFanProfiles"/>.</summary>
public interface IFanProfiles
{
    Task<FanProfile?> GetProfileAsync(string fanId, CancellationToken ct);
    Task<CampaignConsent?> GetConsentAsync(string fanId, string campaignId, CancellationToken ct);
}

public static class FanConsents
{
    /// <summary>
    /// Whether the fan may act in the campaign as far as consent goes: null when the campaign has no rules, when the
    /// action names the current rules version (accepted with it, as a submission or a vote can), or when the stored
    /// consent has it; else <c>consent_required</c> with the version to accept. Accepted is the version that applies.
    /// Only reads the stored consent when the action does not name the current version, so the vote path stays read-free
    /// for microsites that send it.
    /// </summary>
    public static async Task<(ApiProblem? Problem, string? Accepted)> CheckAsync(this IFanProfiles? fans, Campaign campaign, string fanId,
        string? namedRulesVersion, CancellationToken ct)
    {
        if (campaign.Rules is not { } rules) return (null, null);
        if (namedRulesVersion == rules.Version) return (null, rules.Version);
        var stored = fans is null ? null : (await fans.GetConsentAsync(fanId, campaign.Id, ct))?.RulesVersion;
        var accepted = stored == rules.Version ? stored : namedRulesVersion ?? stored;
        return (FanRules.ConsentNeeded(campaign, accepted), accepted);
    }
}

internal sealed class FanProfiles(FanStore store) : IFanProfiles
{
    public Task<FanProfile?> GetProfileAsync(string fanId, CancellationToken ct) => store.GetProfileAsync(fanId, ct);
    public Task<CampaignConsent?> GetConsentAsync(string fanId, string campaignId, CancellationToken ct) => store.GetConsentAsync(fanId, campaignId, ct);
}

public static class FansApi
{
    public static void AddFans(this WebApplicationBuilder builder)
    {
        builder.Services.AddTable(FanStore.TableName);
        builder.Services.AddSingleton<FanStore>();
        builder.Services.AddSingleton<IFanProfiles, FanProfiles>();
    }

    public static void MapFans(this WebApplication app)
    {
        var me = app.MapGroup("/api/me").WithTags("Fans").RequireAuthorization(Policies.Fan);

        me.MapGet("/profile", async (ClaimsPrincipal user, FanStore store, CancellationToken ct) =>
            await store.GetProfileAsync(user.Subject(), ct) is { } p ? Results.Ok(p) : ApiProblem.NotFound("profile_not_found", "Your profile").ToResult())
            .WithSummary("The caller's profile.");

        me.MapPut("/profile", async (ProfileInput input, ClaimsPrincipal user, FanStore store, TimeProvider time, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            var errors = FanRules.Validate(input, now);
            if (errors.Count > 0) return ApiProblem.Validation(errors).ToResult();
            var fanId = user.Subject();
            var staff = Roles.StaffKinds.Any(user.IsInRole);
            var profile = FanRules.Apply(await store.GetProfileAsync(fanId, ct), fanId, input, staff, now);
            await store.SaveProfileAsync(profile, ct);
            return Results.Ok(profile);
        }).WithSummary("Create or replace the caller's profile (display name, country, birth date).");

        me.MapPut("/campaigns/{campaignId}/consent", async (string campaignId, ConsentInput input, ClaimsPrincipal user,
            FanStore store, CampaignStore campaigns, TimeProvider time, IServiceProvider services, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            if (await campaigns.GetCachedAsync(campaignId, ct) is not { } campaign || !campaign.IsVisibleToPublic(now))
                return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var fanId = user.Subject();
            var (consent, code, detail) = FanRules.Consent(campaign, await store.GetConsentAsync(fanId, campaignId, ct), fanId, input, now);
            if (consent is null) return new ApiProblem(400, code!, "Consent was not recorded.", detail).ToResult();
            // The choice reaches the fan's entries (the gallery shows label texts with it): a withdrawal is applied before
            // it is recorded (a failure in between leaves texts hidden, never shown without consent), a grant after. Applied
            // on every PUT (it changes only entries that differ), so repeating the request repairs an interrupted one.
            var display = services.GetService<IPublicDisplay>();
            if (display is not null && !consent.ShowNamePublicly) await display.ApplyAsync(campaignId, fanId, false, now, ct);
            await store.SaveConsentAsync(consent, ct);
            if (display is not null && consent.ShowNamePublicly) await display.ApplyAsync(campaignId, fanId, true, now, ct);
            return Results.Ok(consent);
        }).WithSummary("Accept a campaign's rules and prize-draw terms (current versions) and give or withdraw marketing and public display.");

        me.MapGet("/campaigns/{campaignId}/consent", async (string campaignId, ClaimsPrincipal user, FanStore store, CancellationToken ct) =>
            await store.GetConsentAsync(user.Subject(), campaignId, ct) is { } c ? Results.Ok(c) : ApiProblem.NotFound("consent_not_found", "Consent").ToResult())
            .WithSummary("What the caller accepted for a campaign.");

        app.MapGet("/api/fans/{fanId}", async (string fanId, FanStore store, CancellationToken ct) =>
            await store.GetProfileAsync(fanId, ct) is { } p ? Results.Ok(p) : ApiProblem.NotFound("profile_not_found", "The profile").ToResult())
            .Requires(Powers.FanProfileRead).WithTags("Fans").WithSummary("A fan's profile (admins only: personal data).");
    }
}
