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
        // Scoped by issuer and agent: the IdP's session id, as the gateway keys it.
        Assert.Equal("ext:sso-agent:okta-123", record.GetProperty("session").GetString());
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

    [Fact]
    public async Task AnExternalTokenCarryingAnotherSessionsId_ReachesNothingOfThatSession()
    {
        var (idp, key) = StartIdp();
        using var _ = idp;
        await using var server = await TestMcpServer.StartAsync();
        await using var gw = await TestGateway.StartAsync(server.Url, McpPolicies.Policy, McpPolicies.Routes(server.Url), ExternalArgs(idp));
        var mcpUri = new Uri(gw.AgentUri, "mcp");

        // The victim: one of the gateway's own sessions, with an MCP session bound to it.
        var victimToken = await gw.TokenAsync("victim", "build");
        var victimSid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(victimToken).GetClaim("sid").Value;
        await using var victim = await Mcp.McpSetup.ConnectAsync(mcpUri, victimToken);
        await victim.ListToolsAsync();

        // The IdP vouches for a token naming the same agent and the victim's session id.
        var forged = Tokens.Create(key, SecurityAlgorithms.RsaSha256, issuer: idp.Url!, agent: "victim", session: victimSid, workType: "build");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_docs","arguments":{"text":"x"}}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", forged);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Add("Mcp-Session-Id", victim.SessionId);
        using var response = await gw.Agent.SendAsync(request);

        Assert.Contains("mcp_session_not_owned", await response.Content.ReadAsStringAsync());
        Assert.Empty(server.ToolCalls);

        // Revoking the forged session's key leaves the victim's session working, and the reverse.
        Assert.True((await gw.Admin.PostAsync($"admin/sessions/{Uri.EscapeDataString(IdentityResolverScope("victim", victimSid))}/revoke", null)).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gw.GetAsync("/api/repos", forged)).StatusCode);
        await victim.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "x" });
        Assert.Single(server.ToolCalls);
    }

    private static string IdentityResolverScope(string agent, string sid) => AgentPerimeter.Gateway.Identity.IdentityResolver.ScopeExternalSession(agent, sid);
}
