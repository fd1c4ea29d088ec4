using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.FunctionalTests.Harness;
using AgentPerimeter.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Gateway.FunctionalTests.Approvals;

/// <summary>
/// Replicas sharing Redis: a call held on one replica and approved on the other's page passes when the client
/// retries through either; a private_key_jwt assertion redeemed on one replica is refused on the other.
/// </summary>
public sealed class RedisApprovalPageTests
{
    private static async Task<McpClient> UrlElicitingClientAsync(TestGateway gateway, string token) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(gateway.AgentUri, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        }), new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability { Url = new UrlElicitationCapability() } },
            Handlers = new McpClientHandlers { ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "cancel" }) },
        });

    [Fact]
    public async Task HeldOnOneReplica_ApprovedOnTheOthersPage_TheRetryThroughTheOtherReplicaFindsIt()
    {
        using var redis = await RedisServer.StartAsync();
        await using var server = await TestMcpServer.StartAsync();
        var (a, b) = await RedisReplicas.StartAsync(redis, server.Url, HarnessSetup.Policy, routes: McpPolicies.Routes(server.Url));
        await using var _ = a;
        await using var __ = b;
        var token = await a.TokenAsync("release-bot", "production");
        var staging = new Dictionary<string, object?> { ["env"] = "staging" };

        await using (var onA = await UrlElicitingClientAsync(a, token))
        {
            var held = await Assert.ThrowsAsync<ModelContextProtocol.UrlElicitationRequiredException>(() => onA.CallToolAsync("deploy", staging).AsTask());
            var id = Assert.Single(held.Elicitations).ElicitationId!;
            // The person opens the page on the other replica's admin listener.
            using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() });
            var login = await browser.PostAsync(new Uri(b.AdminUri, "approvals/login"), new FormUrlEncodedContent([new("operator", "frank"), new("next", $"/approvals/{id}")]));
            var page = await login.Content.ReadAsStringAsync();
            Assert.Contains("tools/call deploy", page);
            var csrf = WebUtility.HtmlDecode(Regex.Match(page, "name=\"csrf\" value=\"([^\"]*)\"").Groups[1].Value);
            var decided = await browser.PostAsync(new Uri(b.AdminUri, $"approvals/{id}"), new FormUrlEncodedContent([new("csrf", csrf), new("decision", "approve")]));
            Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        }

        await using var onB = await UrlElicitingClientAsync(b, token); // same session, another replica, a new MCP session
        var result = await onB.CallToolAsync("deploy", staging);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal(1, server.ToolCalls.Count(c => c == "tools/call:deploy"));
    }

    [Fact]
    public async Task APrivateKeyJwtAssertion_RedeemedOnOneReplica_IsRefusedOnTheOther()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-redis-oauth-").FullName;
        using var key = RSA.Create(2048);
        File.WriteAllText(Path.Combine(dir, "signer.pem"), key.ExportSubjectPublicKeyInfoPem());
        var (a, b) = await RedisReplicas.StartAsync(redis, upstream.Url, TestPolicies.Default, extraArgs:
        [
            "--Gateway:OAuth:PublicUrl=http://perimeter.test", "--Gateway:OAuth:Clients:signer:WorkTypes:0=build",
            $"--Gateway:OAuth:Clients:signer:PublicKeyPath={Path.Combine(dir, "signer.pem")}",
        ]);
        await using var _ = a;
        await using var __ = b;
        var assertion = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "signer", Audience = "http://perimeter.test", Expires = DateTime.UtcNow.AddMinutes(2),
            Claims = new Dictionary<string, object> { ["sub"] = "signer", ["jti"] = "once-only" },
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(new Microsoft.IdentityModel.Tokens.RsaSecurityKey(key), "RS256"),
        });
        async Task<(HttpStatusCode, string?)> Redeem(TestGateway gateway)
        {
            using var response = await gateway.Agent.PostAsync(".perimeter/oauth/token", new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"), new("scope", "work_type:build"),
                new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), new("client_assertion", assertion),
            ]));
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return (response.StatusCode, body.TryGetProperty("error", out var e) ? e.GetString() : null);
        }

        Assert.Equal((HttpStatusCode.OK, null), await Redeem(a));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), await Redeem(b));
        Directory.Delete(dir, recursive: true);
    }
}
