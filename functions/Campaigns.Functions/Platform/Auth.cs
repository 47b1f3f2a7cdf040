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
    /// <summary>Optional second OIDC authority for staff (workforce Entra ID) when fans sign in elsewhere.</summary>
    public string? StaffAuthority { get; set; }
    /// <summary>Audience of staff tokens; defaults to Audience.</summary>
    public string? StaffAudience { get; set; }
    /// <summary>The "iss" of staff tokens when it differs from StaffAuthority (it selects the staff scheme).</summary>
    public string? StaffIssuer { get; set; }
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
        if (!string.IsNullOrWhiteSpace(o.StaffAuthority) && !Uri.TryCreate(o.StaffAuthority, UriKind.Absolute, out _))
            errors.Add("Setting 'Auth__StaffAuthority' must be an absolute URL.");
        if (hasKey && Encoding.UTF8.GetByteCount(o.DevSigningKey!) < 32) errors.Add("Setting 'Auth__DevSigningKey' must be at least 32 bytes.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class AuthSetup
{
    public const string Scheme = "Bearer", FanScheme = "Fans", StaffScheme = "Staff";

    /// <summary>
    /// Two bearer schemes behind one: fans' tokens (Auth__Authority: Entra External ID or any OIDC provider, or the
    /// local dev key) and, when Auth__StaffAuthority is set, staff tokens from the workforce tenant. The token's
    /// issuer picks the scheme; each scheme still validates signature, issuer, audience and lifetime itself.
    /// </summary>
    public static void AddCampaignsAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection("Auth")).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Fan or staff bearer token", o => o.ForwardDefaultSelector = http =>
            {
                var a = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
                var staffIssuer = string.IsNullOrWhiteSpace(a.StaffIssuer) ? a.StaffAuthority : a.StaffIssuer;
                return !string.IsNullOrWhiteSpace(staffIssuer) && SameIssuer(IssuerOf(http), staffIssuer) ? StaffScheme : FanScheme;
            })
            .AddJwtBearer(FanScheme)
            .AddJwtBearer(StaffScheme);
        builder.Services.AddOptions<JwtBearerOptions>(FanScheme).Configure<IOptions<AuthOptions>>((jwt, auth) =>
        {
            var a = auth.Value;
            Configure(jwt, a, a.Authority, a.Audience);
            if (!string.IsNullOrWhiteSpace(a.DevSigningKey) && string.IsNullOrWhiteSpace(a.Authority))
            {
                jwt.TokenValidationParameters.ValidIssuer = a.Issuer;
                jwt.TokenValidationParameters.IssuerSigningKey = DevTokens.Key(a.DevSigningKey);
            }
            // Fans signing up through the consumer tenant carry no app roles: a signed-in fan is a fan.
            jwt.Events = new JwtBearerEvents
            {
                OnTokenValidated = ctx =>
                {
                    if (ctx.Principal?.Identity is ClaimsIdentity id && !id.HasClaim(c => c.Type == a.RoleClaim))
                        id.AddClaim(new Claim(a.RoleClaim, Roles.Fan));
                    return Task.CompletedTask;
                },
            };
        });
        builder.Services.AddOptions<JwtBearerOptions>(StaffScheme).Configure<IOptions<AuthOptions>>((jwt, auth) =>
        {
            var a = auth.Value;
            Configure(jwt, a, a.StaffAuthority, string.IsNullOrWhiteSpace(a.StaffAudience) ? a.Audience : a.StaffAudience);
        });
        builder.Services.AddAuthorization(Policies.Add);
    }

    private static void Configure(JwtBearerOptions jwt, AuthOptions a, string? authority, string audience)
    {
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = authority?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ?? true;
        if (!string.IsNullOrWhiteSpace(authority)) jwt.Authority = authority;
        jwt.Audience = audience;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidAudience = audience,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuer = true,
            RoleClaimType = a.RoleClaim,
            NameClaimType = "sub",
            ClockSkew = TimeSpan.FromSeconds(30),
        };
    }

    private static string? IssuerOf(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        try { return new JsonWebToken(header["Bearer ".Length..].Trim()).Issuer; }
        catch (ArgumentException) { return null; } // not a JWT: the fan scheme rejects it with 401
    }

    private static bool SameIssuer(string? a, string b) => a is not null && string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

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
