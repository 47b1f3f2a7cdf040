using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Campaigns.Platform;

/// <summary>
/// Token roles say only what kind of caller this is. What a staff member may do comes from their stored workspace
/// memberships (Workspaces/), never from the token.
/// </summary>
public static class Roles
{
    public const string Fan = "fan";
    /// <summary>A staff sign-in: any powers come from workspace memberships.</summary>
    public const string Staff = "staff";
    /// <summary>Platform operator: creates workspaces and their first owner, repairs memberships.</summary>
    public const string Operator = "operator";
    public static readonly string[] All = [Fan, Staff, Operator];
    public static readonly string[] StaffKinds = [Staff, Operator];
}

/// <summary>Named authorisation policies; every endpoint names one of these or is explicitly anonymous.</summary>
public static class Policies
{
    public const string Fan = "Fan";
    /// <summary>A staff or operator token; the route's power is then checked per workspace (Workspaces.StaffRoutes.Requires).</summary>
    public const string Staff = "Staff";
    public const string FunctionsHost = Hosting.InvocationEndpoints.HostOnlyPolicy;

    public static void Add(AuthorizationOptions o)
    {
        o.AddPolicy(Fan, p => p.RequireAuthenticatedUser().RequireRole(Roles.Fan));
        o.AddPolicy(Staff, p => p.RequireAuthenticatedUser().RequireRole(Roles.StaffKinds));
        // Only the Functions host (or, standalone, whoever holds this process's invocation key) may invoke triggers.
        o.AddPolicy(FunctionsHost, p => p.RequireAssertion(ctx =>
            ctx.Resource is HttpContext http && http.RequestServices.GetRequiredService<Hosting.InvocationGuard>().Allows(http)));
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
            // Fans signing up through the consumer tenant carry no app roles: a signed-in fan is a fan. When staff sign in
            // through their own authority, the fans' provider can never mint staff: whatever roles its token claims, it
            // is a fan's token.
            var separateStaff = !string.IsNullOrWhiteSpace(a.StaffAuthority);
            jwt.Events = new JwtBearerEvents
            {
                OnTokenValidated = ctx =>
                {
                    if (ctx.Principal?.Identity is not ClaimsIdentity id) return Task.CompletedTask;
                    if (separateStaff)
                        foreach (var claim in id.FindAll(c => c.Type == a.RoleClaim).ToList()) id.RemoveClaim(claim);
                    if (!id.HasClaim(c => c.Type == a.RoleClaim)) id.AddClaim(new Claim(a.RoleClaim, Roles.Fan));
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
