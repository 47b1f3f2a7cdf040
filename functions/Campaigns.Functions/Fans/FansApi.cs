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
            FanStore store, CampaignStore campaigns, TimeProvider time, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            if (await campaigns.GetCachedAsync(campaignId, ct) is not { } campaign || !campaign.IsVisibleToPublic(now))
                return ApiProblem.NotFound("campaign_not_found", "The campaign").ToResult();
            var fanId = user.Subject();
            var (consent, code, detail) = FanRules.Consent(campaign, await store.GetConsentAsync(fanId, campaignId, ct), fanId, input, now);
            if (consent is null) return new ApiProblem(400, code!, "Consent was not recorded.", detail).ToResult();
            await store.SaveConsentAsync(consent, ct);
            return Results.Ok(consent);
        }).WithSummary("Accept a campaign's rules (current version) and give or withdraw the separate grants.");

        me.MapGet("/campaigns/{campaignId}/consent", async (string campaignId, ClaimsPrincipal user, FanStore store, CancellationToken ct) =>
            await store.GetConsentAsync(user.Subject(), campaignId, ct) is { } c ? Results.Ok(c) : ApiProblem.NotFound("consent_not_found", "Consent").ToResult())
            .WithSummary("What the caller accepted for a campaign.");

        app.MapGet("/api/fans/{fanId}", async (string fanId, FanStore store, CancellationToken ct) =>
            await store.GetProfileAsync(fanId, ct) is { } p ? Results.Ok(p) : ApiProblem.NotFound("profile_not_found", "The profile").ToResult())
            .Requires(Powers.FanProfileRead).WithTags("Fans").WithSummary("A fan's profile (admins only: personal data).");
    }
}
