using System.Net;
using System.Text.Json;
using AgentPerimeter.Testing;
using Microsoft.IdentityModel.Tokens;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AgentPerimeter.Gateway.FunctionalTests.Identity;

/// <summary>An external OIDC issuer (WireMock stands in for the identity provider's discovery and JWKS).</summary>
public class ExternalIssuerTests
{
    private static (WireMockServer Idp, RsaSecurityKey Key) StartIdp()
    {
        var idp = WireMockServer.Start();
        var key = Tokens.NewRsaKey("idp-key-1");
        var p = key.Rsa.ExportParameters(false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = key.KeyId, n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) } },
        });
        var discovery = JsonSerializer.Serialize(new { issuer = idp.Url, jwks_uri = idp.Url + "/jwks" });
        idp.Given(Request.Create().WithPath("/.well-known/openid-configuration").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(discovery));
        idp.Given(Request.Create().WithPath("/jwks").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(jwks));
        return (idp, key);
    }

    private static string[] ExternalArgs(WireMockServer idp) =>
    [
        $"--Gateway:Identity:External:Authority={idp.Url}",
        "--Gateway:Identity:External:RequireHttpsMetadata=false",
    ];

    [Fact]
    public async Task ExternalIssuerToken_IsAccepted_WithItsClaims()
    {
        var (idp, key) = StartIdp();
        using var _ = idp;
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ExternalArgs(idp));
        var upstream = gw.Upstream;

        var token = Tokens.Create(key, SecurityAlgorithms.RsaSha256, issuer: idp.Url!, agent: "sso-agent", session: "okta-123");
        var response = await gw.GetAsync("/api/repos", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = gw.AuditFor(response);
        Assert.Equal("sso-agent", record.GetProperty("agent").GetString());
        Assert.Equal("okta-123", record.GetProperty("session").GetString());
        Assert.Single(upstream.Received);
    }

    [Fact]
    public async Task ExternalKey_CannotVouchForTheGatewaysOwnIssuer_NorTheReverse()
    {
        var (idp, idpKey) = StartIdp();
        using var _ = idp;
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ExternalArgs(idp));
        var upstream = gw.Upstream;
        var gatewayKey = Tokens.GatewayKey(gw);

        var idpKeyOwnIssuer = await gw.GetAsync("/api/repos", Tokens.Create(idpKey, SecurityAlgorithms.RsaSha256, issuer: "agentperimeter"));
        var ownKeyIdpIssuer = await gw.GetAsync("/api/repos", Tokens.Create(gatewayKey, SecurityAlgorithms.RsaSha256, issuer: idp.Url!));

        Assert.Equal(HttpStatusCode.Unauthorized, idpKeyOwnIssuer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, ownKeyIdpIssuer.StatusCode);
        Assert.Empty(upstream.Received);
    }
}
