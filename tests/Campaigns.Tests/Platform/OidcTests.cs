using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Campaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Campaigns.Tests.Platform;

/// <summary>
/// The production token path: two OIDC providers (fans' consumer tenant and staff's workforce tenant) served on
/// loopback with discovery documents and JWKS; the program fetches their keys and routes by issuer.
/// </summary>
public sealed class OidcTests
{
    private sealed class Provider : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly RsaSecurityKey _key;

        private Provider(WebApplication app, RsaSecurityKey key, string authority) { _app = app; _key = key; Authority = authority; }

        public string Authority { get; }

        public static async Task<Provider> StartAsync(string kid)
        {
            var rsa = RSA.Create(2048);
            var key = new RsaSecurityKey(rsa) { KeyId = kid };
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            string? authority = null;
            app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = authority!, ["jwks_uri"] = authority + "/keys", ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            }));
            app.MapGet("/keys", () =>
            {
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = kid });
                return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
            });
            await app.StartAsync();
            authority = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Provider(app, key, authority);
        }

        public string Token(string subject, string audience, params string[] roles) => TokenAs(Authority, subject, audience, roles);

        public string TokenAs(string issuer, string subject, string audience, params string[] roles)
        {
            var claims = new List<Claim> { new("sub", subject) };
            claims.AddRange(roles.Select(r => new Claim("roles", r)));
            return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer, Audience = audience, Subject = new ClaimsIdentity(claims),
                Expires = DateTime.UtcNow.AddMinutes(10), SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
            });
        }

        public async ValueTask DisposeAsync() { await _app.StopAsync(); await _app.DisposeAsync(); }
    }

    [Fact]
    public async Task Fan_and_staff_tokens_from_two_providers_are_validated_against_their_own_keys()
    {
        await using var fans = await Provider.StartAsync("fans-key");
        await using var staff = await Provider.StartAsync("staff-key");
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Auth:DevSigningKey"] = "",
            ["Winners:PseudonymKey"] = "oidc-test-pseudonym-key-0123456789abcdef",
            ["Auth:Authority"] = fans.Authority,
            ["Auth:Audience"] = "api://campaigns",
            ["Auth:StaffAuthority"] = staff.Authority,
            ["Auth:StaffAudience"] = "api://campaigns-staff",
        });

        async Task<int> Get(string url, string token)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, url);
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return (int)(await app.Client.SendAsync(req)).StatusCode;
        }

        // A fan from the consumer tenant with no roles claim is a fan; the profile endpoint answers 404 (no profile yet), not 401/403.
        var fan = "oidc-fan-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(404, await Get("/api/me/profile", fans.Token(fan, "api://campaigns")));
        Assert.Equal(403, await Get("/api/campaigns", fans.Token(fan, "api://campaigns")));
        // Staff from the workforce tenant with an app role.
        Assert.Equal(200, await Get("/api/campaigns", staff.Token("alice", "api://campaigns-staff", "staff")));
        // The fans' provider never mints staff: a fan token claiming staff or operator roles is still only a fan's.
        Assert.Equal(403, await Get("/api/campaigns", fans.Token(fan, "api://campaigns", "staff")));
        Assert.Equal(403, await Get("/api/workspaces", fans.Token(fan, "api://campaigns", "operator")));
        Assert.Equal(404, await Get("/api/me/profile", fans.Token(fan, "api://campaigns", "staff")));
        // Staff token with the fans' audience, or signed by the other provider's key, is refused.
        Assert.Equal(401, await Get("/api/campaigns", staff.Token("alice", "api://campaigns", "staff")));
        // Signed with the fans' key but claiming the staff issuer: routed to the staff scheme, whose keys do not match.
        var forged = fans.TokenAs(staff.Authority, "mallory", "api://campaigns-staff", "operator");
        Assert.Equal(401, await Get("/api/campaigns", forged));
        Assert.Equal(401, await Get("/api/campaigns", "not-a-jwt"));
    }
}
