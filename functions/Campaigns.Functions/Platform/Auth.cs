using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Campaigns.Platform;

public static class Roles
{
    public const string Fan = "fan";
    public const string Marketer = "marketer";
    public const string Moderator = "moderator";
    public const string Judge = "judge";
    public const string Admin = "admin";
    public static readonly string[] All = [Fan, Marketer, Moderator, Judge, Admin];
}

/// <summary>Named authorisation policies; every endpoint names one of these or is explicitly anonymous.</summary>
public static class Policies
{
    public const string Fan = "Fan";
    public const string Marketer = "Marketer";           // marketer or admin
    public const string Moderator = "Moderator";         // moderator or admin
    public const string Judge = "Judge";                 // judge or admin
    public const string Staff = "Staff";                 // any staff role
    public const string Admin = "Admin";
    public const string FunctionsHost = Hosting.InvocationEndpoints.HostOnlyPolicy;

    public static void Add(AuthorizationOptions o)
    {
        o.AddPolicy(Fan, p => p.RequireAuthenticatedUser().RequireRole(Roles.Fan));
        o.AddPolicy(Marketer, p => p.RequireAuthenticatedUser().RequireRole(Roles.Marketer, Roles.Admin));
        o.AddPolicy(Moderator, p => p.RequireAuthenticatedUser().RequireRole(Roles.Moderator, Roles.Admin));
        o.AddPolicy(Judge, p => p.RequireAuthenticatedUser().RequireRole(Roles.Judge, Roles.Admin));
        o.AddPolicy(Staff, p => p.RequireAuthenticatedUser().RequireRole(Roles.Marketer, Roles.Moderator, Roles.Judge, Roles.Admin));
        o.AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        // The Functions host reaches the handler over loopback; nothing else may invoke triggers.
        o.AddPolicy(FunctionsHost, p => p.RequireAssertion(ctx =>
            ctx.Resource is HttpContext http && http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)));
    }
}

public sealed class AuthOptions
{
    /// <summary>OIDC authority (Entra ID, Entra External ID or any OIDC provider). Empty locally.</summary>
    public string? Authority { get; set; }
    public string Audience { get; set; } = "";
    /// <summary>Issuer of dev tokens (used with DevSigningKey).</summary>
    public string Issuer { get; set; } = "campaigns-dev";
    /// <summary>Symmetric key for locally minted tokens (scripts/token). At least 32 bytes. Never set in Azure.</summary>
    public string? DevSigningKey { get; set; }
    /// <summary>Claim holding roles: Entra app roles arrive in "roles".</summary>
    public string RoleClaim { get; set; } = "roles";
}

public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Audience)) errors.Add("Setting 'Auth__Audience' is required.");
        var hasAuthority = !string.IsNullOrWhiteSpace(o.Authority);
        var hasKey = !string.IsNullOrWhiteSpace(o.DevSigningKey);
        if (!hasAuthority && !hasKey) errors.Add("Set 'Auth__Authority' (an OIDC provider) or, locally, 'Auth__DevSigningKey'.");
        if (hasAuthority && !Uri.TryCreate(o.Authority, UriKind.Absolute, out _)) errors.Add("Setting 'Auth__Authority' must be an absolute URL.");
        if (hasKey && Encoding.UTF8.GetByteCount(o.DevSigningKey!) < 32) errors.Add("Setting 'Auth__DevSigningKey' must be at least 32 bytes.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class AuthSetup
{
    public static void AddCampaignsAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection("Auth")).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, auth) =>
            {
                var a = auth.Value;
                jwt.MapInboundClaims = false;
                jwt.RequireHttpsMetadata = a.Authority?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ?? true;
                if (!string.IsNullOrWhiteSpace(a.Authority)) jwt.Authority = a.Authority;
                jwt.Audience = a.Audience;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidAudience = a.Audience,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    ValidateIssuer = true,
                    ValidIssuer = string.IsNullOrWhiteSpace(a.Authority) ? a.Issuer : null,
                    RoleClaimType = a.RoleClaim,
                    NameClaimType = "sub",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                if (!string.IsNullOrWhiteSpace(a.DevSigningKey) && string.IsNullOrWhiteSpace(a.Authority))
                    jwt.TokenValidationParameters.IssuerSigningKey = DevTokens.Key(a.DevSigningKey);
            });
        builder.Services.AddAuthorization(Policies.Add);
    }

    /// <summary>The caller's stable subject id (the token's "sub").</summary>
    public static string Subject(this ClaimsPrincipal user)
        => user.FindFirst("sub")?.Value ?? throw new ProblemException(new ApiProblem(401, "no_subject", "The token has no subject."));
}

/// <summary>Mints tokens signed with the local dev key (scripts/token, tests, benchmarks).</summary>
public static class DevTokens
{
    public static SymmetricSecurityKey Key(string secret) => new(Encoding.UTF8.GetBytes(secret)) { KeyId = "dev" };

    public static string Mint(AuthOptions options, string role, string subject, TimeSpan lifetime, DateTimeOffset now,
        IEnumerable<Claim>? extra = null)
    {
        if (string.IsNullOrWhiteSpace(options.DevSigningKey))
            throw new InvalidOperationException("Auth__DevSigningKey is not set; dev tokens cannot be minted.");
        var claims = new List<Claim> { new("sub", subject), new(options.RoleClaim, role), new("name", subject) };
        if (extra is not null) claims.AddRange(extra);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(Key(options.DevSigningKey), SecurityAlgorithms.HmacSha256),
        });
    }
}
