using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Identity;

/// <summary>
/// The gateway as an OAuth protected resource (RFC 9728) and a client_credentials authorization server
/// (RFC 8414, OAuth 2.1, RFC 7523, RFC 8707), driven by the official TypeScript SDK's own OAuth support
/// and byte-level requests for what an SDK would never send.
/// </summary>
public sealed class OAuthTests : IAsyncLifetime
{
    private const string Secret = "s3cret-for-the-explorer-client-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("perimeter-oauth-").FullName;
    private McpSetup _setup = null!;
    private string _privateKeyFile = null!;

    private static string NodeDir() => Path.Combine(TestPaths.RepoRoot(), "tests", "AgentPerimeter.Gateway.FunctionalTests", "Mcp", "node");

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(_dir, "explorer-secret"), Secret + "\n");
        using var rsa = RSA.Create(2048);
        _privateKeyFile = Path.Combine(_dir, "signer-key.pem");
        File.WriteAllText(_privateKeyFile, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(_dir, "signer-public.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(Path.Combine(_dir, "builder-secret"), "another-long-secret-for-the-builder\n");
        _setup = await McpSetup.StartAsync(
            "--Gateway:AllowedHosts:0=127.0.0.1", // without a PublicUrl, the issuer and resources come from the Host: one of ours
            "--Gateway:OAuth:Clients:explorer:WorkTypes:0=exploration",
            "--Gateway:OAuth:Clients:explorer:Secret:Kind=file",
            $"--Gateway:OAuth:Clients:explorer:Secret:Path={Path.Combine(_dir, "explorer-secret")}",
            "--Gateway:OAuth:Clients:signer:Agent=signer-bot",
            "--Gateway:OAuth:Clients:signer:WorkTypes:0=build",
            "--Gateway:OAuth:Clients:signer:WorkTypes:1=exploration",
            $"--Gateway:OAuth:Clients:signer:PublicKeyPath={Path.Combine(_dir, "signer-public.pem")}",
            "--Gateway:OAuth:Clients:builder:WorkTypes:0=build",
            "--Gateway:OAuth:Clients:builder:Secret:Kind=file",
            $"--Gateway:OAuth:Clients:builder:Secret:Path={Path.Combine(_dir, "builder-secret")}");
    }

    public async Task DisposeAsync()
    {
        await _setup.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private TestGateway Gateway => _setup.Gateway;
    private string BaseUrl => Gateway.AgentUri.GetLeftPart(UriPartial.Authority);

    [Fact]
    public async Task Every401_NamesTheProtectedResourceMetadata_WhichNamesTheAuthorizationServer()
    {
        using var none = await Gateway.Agent.GetAsync("mcp");
        using var bad = await Gateway.GetAsync("mcp", "not-a-jwt");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        var metadataUrl = $"{BaseUrl}/.well-known/oauth-protected-resource";
        Assert.Equal($"Bearer resource_metadata=\"{metadataUrl}\"", none.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal($"Bearer error=\"invalid_token\", error_description=\"invalid_token\", resource_metadata=\"{metadataUrl}\"", bad.Headers.WwwAuthenticate.ToString());

        var prm = JsonDocument.Parse(await Gateway.Agent.GetStringAsync(metadataUrl)).RootElement;
        Assert.Equal(BaseUrl, prm.GetProperty("resource").GetString());
        Assert.Equal([BaseUrl], prm.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["work_type:build", "work_type:exploration", "work_type:production"], prm.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()));
        var suffixed = JsonDocument.Parse(await Gateway.Agent.GetStringAsync(metadataUrl + "/mcp")).RootElement;
        Assert.Equal(BaseUrl + "/mcp", suffixed.GetProperty("resource").GetString());
        var (tricky, _) = await RawHttp.SendAsync(Gateway.AgentUri, "GET", "/.well-known/oauth-protected-resource/a/%2e%2e/b", null);
        Assert.Equal(401, tricky); // not metadata: an agent request like any other, refused without a token

        var asMetadata = JsonDocument.Parse(await Gateway.Agent.GetStringAsync($"{BaseUrl}/.well-known/oauth-authorization-server")).RootElement;
        Assert.Equal(BaseUrl, asMetadata.GetProperty("issuer").GetString());
        Assert.Equal($"{BaseUrl}/.perimeter/oauth/token", asMetadata.GetProperty("token_endpoint").GetString());
        Assert.Equal(["client_credentials"], asMetadata.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt"],
            asMetadata.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task TypeScriptSdk_ClientCredentials_DiscoversFrom401_GetsAToken_AndThePolicyOfItsWorkTypeApplies()
    {
        var allowed = await RunNodeAsync("secret", "explorer", Secret, "work_type:exploration", "search_docs", """{"text":"hello"}""");
        var denied = await RunNodeAsync("secret", "explorer", Secret, "work_type:exploration", "deploy", """{"env":"staging"}""");

        Assert.True(allowed.TryGetProperty("tools", out _), allowed.ToString());
        Assert.Equal(["read_file", "search_docs", "slow_job"], allowed.GetProperty("tools").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.True(allowed.GetProperty("call").GetProperty("ok").GetBoolean(), allowed.ToString());
        Assert.Equal("work_type:exploration", allowed.GetProperty("token").GetString());
        Assert.False(denied.GetProperty("call").GetProperty("ok").GetBoolean());
        Assert.Contains("policy_denied", denied.GetProperty("call").GetProperty("error").GetString());
        Assert.Equal(["tools/call:search_docs"], _setup.Server.ToolCalls);

        var issued = Gateway.AuditRecords().Where(r => r.GetProperty("code").GetString() == "token_issued").ToList();
        Assert.Equal(2, issued.Count);
        Assert.All(issued, r => Assert.Equal("explorer", r.GetProperty("agent").GetString()));
        Assert.All(issued, r => Assert.Equal("exploration", r.GetProperty("work_type").GetString()));
        Assert.DoesNotContain(Secret, File.ReadAllText(Gateway.AuditPath));
        Assert.DoesNotContain(Secret, Gateway.LogText());
    }

    [Fact]
    public async Task TypeScriptSdk_PrivateKeyJwt_GetsABuildToken_BoundToTheResource()
    {
        var result = await RunNodeAsync("jwt", "signer", _privateKeyFile, "work_type:build", "deploy", """{"env":"production"}""");

        Assert.True(result.TryGetProperty("call", out var call) && call.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Contains("deploy", result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        var issued = Assert.Single(Gateway.AuditRecords(), r => r.GetProperty("code").GetString() == "token_issued");
        Assert.Equal("signer-bot", issued.GetProperty("agent").GetString());
        Assert.Equal("build", issued.GetProperty("work_type").GetString());
    }

    [Fact]
    public async Task TypeScriptSdk_AskingForAWorkTypeNotRegistered_GetsInvalidScope_AndARevokedClientGetsNoToken()
    {
        var scope = await RunNodeAsync("secret", "explorer", Secret, "work_type:production", "search_docs", "{}");
        Assert.True(scope.TryGetProperty("connectError", out var scopeError) && scopeError.GetString()!.Contains("Ask for one work type this client is registered for"), scope.ToString());
        Assert.Contains(Gateway.AuditRecords(), r => r.GetProperty("code").GetString() == "oauth_invalid_scope");

        (await Gateway.Admin.PostAsync("admin/agents/explorer/revoke", null)).EnsureSuccessStatusCode();
        var revoked = await RunNodeAsync("secret", "explorer", Secret, "work_type:exploration", "search_docs", "{}");
        Assert.Contains("may not obtain tokens", revoked.GetProperty("connectError").GetString());
        Assert.Empty(_setup.Server.ToolCalls);
    }

    private async Task<JsonElement> RunNodeAsync(string mode, string clientId, string credential, string scope, string tool, string args)
    {
        var dir = NodeDir();
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "@modelcontextprotocol", "sdk")),
            "the TypeScript MCP SDK is not installed: run tests/run.sh (it runs 'npm ci' in " + dir + ")");
        using var node = ChildProcess.StartExecutable("node", [Path.Combine(dir, "client-oauth.mjs"), _setup.McpUri.ToString(), mode, clientId, credential, scope, tool, args], dir);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, node.Output);
        var line = node.Output.Split('\n').Last(l => l.StartsWith('{'));
        var result = JsonDocument.Parse(line).RootElement.Clone();
        return result;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> TokenAsync(IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? auth = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{BaseUrl}/.perimeter/oauth/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = auth;
        using var response = await Gateway.Agent.SendAsync(request);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));

    [Fact]
    public async Task TokenEndpoint_RefusesWhatAnSdkWouldNeverSend_WithTheRfcsErrors()
    {
        static KeyValuePair<string, string> P(string k, string v) => new(k, v);
        var grant = P("grant_type", "client_credentials");

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), Error(await TokenAsync([grant], Basic("explorer", "wrong-secret-of-the-right-size"))));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), Error(await TokenAsync([grant], Basic("nobody", Secret))));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), Error(await TokenAsync([grant])));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), Error(await TokenAsync([grant, P("client_id", "signer"), P("client_secret", Secret)])));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), Error(await TokenAsync([grant, P("client_id", "explorer"), P("client_secret", Secret)], Basic("explorer", Secret))));
        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), Error(await TokenAsync([P("grant_type", "password")], Basic("explorer", Secret))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), Error(await TokenAsync([grant, P("scope", "work_type:exploration work_type:build")], Basic("builder", "another-long-secret-for-the-builder"))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), Error(await TokenAsync([grant, P("scope", "admin")], Basic("explorer", Secret))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), Error(await TokenAsync([grant, P("resource", "https://elsewhere.example.com/mcp")], Basic("explorer", Secret))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), Error(await TokenAsync([grant, P("resource", BaseUrl + "/a/../api")], Basic("explorer", Secret))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), Error(await TokenAsync([grant, grant], Basic("explorer", Secret))));

        // client_secret_post, no scope: the client's first work type; the token is bound to the resource asked for.
        var (status, body) = await TokenAsync([grant, P("client_id", "explorer"), P("client_secret", Secret), P("resource", BaseUrl + "/other")]);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("work_type:exploration", body.GetProperty("scope").GetString());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 1700, 1800);
        var bound = body.GetProperty("access_token").GetString()!;
        using var elsewhere = await Gateway.GetAsync("mcp", bound);
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
        Assert.Contains("invalid_audience", await elsewhere.Content.ReadAsStringAsync());

        // Audited, and no record or log line holds the secret or a token.
        var refusals = Gateway.AuditRecords().Where(r => r.GetProperty("route").GetString() == "perimeter-oauth").ToList();
        Assert.Contains(refusals, r => r.GetProperty("code").GetString() == "oauth_invalid_client");
        Assert.Contains(refusals, r => r.GetProperty("code").GetString() == "oauth_invalid_scope" && r.GetProperty("decision").GetString() == "deny");
        var audit = File.ReadAllText(Gateway.AuditPath);
        Assert.DoesNotContain(Secret, audit);
        Assert.DoesNotContain(bound, audit);
        Assert.DoesNotContain(bound, Gateway.LogText());
    }

    [Fact]
    public async Task PrivateKeyJwt_AReplayedOrForeignAssertion_GetsNoToken()
    {
        using var other = RSA.Create(2048);
        var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(_privateKeyFile));
        string Assertion(RSA signer, string jti) => new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "signer",
            Audience = BaseUrl,
            Expires = DateTime.UtcNow.AddMinutes(2),
            Claims = new Dictionary<string, object> { ["sub"] = "signer", ["jti"] = jti },
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(new Microsoft.IdentityModel.Tokens.RsaSecurityKey(signer), "RS256"),
        });
        KeyValuePair<string, string>[] Form(string assertion) =>
        [
            new("grant_type", "client_credentials"), new("scope", "work_type:build"),
            new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), new("client_assertion", assertion),
        ];

        var once = Assertion(key, "jti-1");
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(Form(once))).Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), Error(await TokenAsync(Form(once))));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), Error(await TokenAsync(Form(Assertion(other, "jti-2")))));
        key.Dispose();
    }

    private static (HttpStatusCode, string?) Error((HttpStatusCode Status, JsonElement Body) response) =>
        (response.Status, response.Body.TryGetProperty("error", out var e) ? e.GetString() : null);
}
