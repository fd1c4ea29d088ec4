using System.Net;
using System.Text;
using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

namespace AgentPerimeter.Gateway.FunctionalTests.Secrets;

public class SecretInjectionTests
{
    private static async Task<(HttpResponseMessage Response, string Body, string Headers)> GetAsync(SecretSetup s, string path, string token)
    {
        var response = await s.Gateway.GetAsync(path, token);
        var body = await response.Content.ReadAsStringAsync();
        var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
        return (response, body, headers);
    }

    private static void AssertNoSecret(SecretSetup s, params string[] texts)
    {
        foreach (var text in texts)
            foreach (var value in s.Values)
                Assert.DoesNotContain(value, text);
    }

    [Theory]
    [InlineData("/api/json", "X-Api-Key", "{value}")]
    [InlineData("/bearer/json", "Authorization", "Bearer {value}")]
    [InlineData("/query/json", null, null)]
    [InlineData("/basic/json", "Authorization", "Basic {basic}")]
    public async Task Upstream_ReceivesTheInjectedCredential_AgentNeverSeesIt(string path, string? header, string? expected)
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("ci-bot", "build");

        var (response, body, headers) = await GetAsync(s, path, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(s.Upstream.Received);
        var value = path.Split('/')[1] switch { "api" => s.ApiKey, "bearer" => s.BearerToken, "query" => s.QueryKey, _ => s.BasicPassword };
        if (header is null)
            Assert.Contains($"api_key={value}", received.RawTarget);
        else
            Assert.Equal(expected!.Replace("{value}", value).Replace("{basic}", Convert.ToBase64String(Encoding.UTF8.GetBytes($"svc:{s.BasicPassword}"))), received.Headers[header]);
        Assert.Contains("[REDACTED]", body);
        AssertNoSecret(s, body, headers);
        var record = s.Gateway.AuditFor(response);
        Assert.Single(record.GetProperty("secrets").EnumerateArray());
        Assert.True(record.GetProperty("governed_by").GetProperty("secrets").GetBoolean());
    }

    [Theory]
    [InlineData("/api/sse")]
    [InlineData("/api/chunked")]
    [InlineData("/api/header")]
    [InlineData("/api/error")]
    [InlineData("/bearer/sse")]
    [InlineData("/bearer/error")]
    public async Task EchoedSecret_IsMasked_InStreamsHeadersAndErrorPages(string path)
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("ci-bot", "build");

        var (response, body, headers) = await GetAsync(s, path, token);

        Assert.Contains("[REDACTED]", body + headers);
        AssertNoSecret(s, body, headers);
        if (path.EndsWith("sse", StringComparison.Ordinal))
            Assert.Contains("data: {\"done\":true}", body);
        if (path.EndsWith("chunked", StringComparison.Ordinal))
            Assert.Equal("key=[REDACTED];end", body);
        if (path.EndsWith("error", StringComparison.Ordinal))
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        // The audit record and the log of this gateway are searched for the values when it is disposed.
    }

    [Fact]
    public async Task CompressedEcho_CannotSmuggleTheSecret_AcceptEncodingIsNotForwarded()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("ci-bot", "build");

        using var plainRequest = new HttpRequestMessage(HttpMethod.Get, "/api/json");
        plainRequest.Headers.Authorization = new("Bearer", token);
        plainRequest.Headers.AcceptEncoding.ParseAdd("gzip, br");
        await s.Gateway.Agent.SendAsync(plainRequest);
        using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, "/api/gzip");
        gzipRequest.Headers.Authorization = new("Bearer", token);
        gzipRequest.Headers.AcceptEncoding.ParseAdd("gzip");
        var response = await s.Gateway.Agent.SendAsync(gzipRequest);
        var raw = await response.Content.ReadAsByteArrayAsync();

        Assert.False(s.Upstream.Received.First().Headers.ContainsKey("Accept-Encoding"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("upstream_response_not_inspectable", Encoding.UTF8.GetString(raw));
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task NotEntitledWorkType_ForwardsWithout_OrIsRefused_PerBinding()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("explorer", "exploration");

        var forwarded = await s.Gateway.GetAsync("/api/json", token);      // binding says "forward"
        var refused = await s.Gateway.GetAsync("/bearer/json", token);     // binding says "refuse"

        Assert.Equal(HttpStatusCode.OK, forwarded.StatusCode);
        var received = Assert.Single(s.Upstream.Received);
        Assert.False(received.Headers.ContainsKey("X-Api-Key"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("secret_not_entitled", await refused.Content.ReadAsStringAsync());
        Assert.Empty(s.Gateway.AuditFor(forwarded).GetProperty("secrets").EnumerateArray());
    }

    [Fact]
    public async Task AgentSuppliedCredentials_NeverReachTheUpstream()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("explorer", "exploration");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/plain/json?api_key=agent-made-up");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.TryAddWithoutValidation("Cookie", "session=agent-cookie");
        request.Headers.TryAddWithoutValidation("X-Api-Key", "agent-own-key");
        request.Headers.TryAddWithoutValidation("X-Auth-Token", "agent-auth-token");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic YWdlbnQ6cHc=");
        request.Headers.TryAddWithoutValidation("X-HTTP-Method-Override", "DELETE");
        request.Headers.TryAddWithoutValidation("X-Original-URL", "/admin/wipe");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=10.0.0.1;host=internal");
        await s.Gateway.Agent.SendAsync(request);
        using var queryRequest = new HttpRequestMessage(HttpMethod.Get, "/query/json?api_key=agent-made-up");
        queryRequest.Headers.Authorization = new("Bearer", await s.Gateway.TokenAsync("ci-bot", "build"));
        await s.Gateway.Agent.SendAsync(queryRequest);

        var plain = s.Upstream.Received.First();
        foreach (var h in new[] { "Authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "Proxy-Authorization", "X-HTTP-Method-Override", "X-Original-URL", "Forwarded" })
            Assert.False(plain.Headers.ContainsKey(h), $"{h} reached the upstream");
        var query = s.Upstream.Received.Last();
        Assert.DoesNotContain("agent-made-up", query.RawTarget);
        Assert.Contains($"api_key={s.QueryKey}", query.RawTarget);
    }

    [Fact]
    public async Task RotatedFileSecret_TakesEffectOnTheNextRequest_WithoutRestart()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("ci-bot", "build");
        await s.Gateway.GetAsync("/bearer/json", token);

        var rotated = TestSecrets.New("rotated");
        File.WriteAllText(s.BearerFile, rotated + "\n");
        var (response, body, _) = await GetAsync(s, "/bearer/json", token);

        Assert.Equal($"Bearer {rotated}", s.Upstream.Received.Last().Headers["Authorization"]);
        Assert.Equal($"Bearer {s.BearerToken}", s.Upstream.Received.First().Headers["Authorization"]);
        Assert.DoesNotContain(rotated, body);
        Assert.Contains("[REDACTED]", body);
    }

    [Fact]
    public async Task AgentHoldingASecret_IsNotGovernedOnTheSecretsAxis()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("explorer", "exploration");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/plain/json");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.TryAddWithoutValidation("X-Custom", s.ApiKey);
        var response = await s.Gateway.Agent.SendAsync(request);

        var record = s.Gateway.AuditFor(response);
        Assert.False(record.GetProperty("governed_by").GetProperty("secrets").GetBoolean());
        Assert.False(record.GetProperty("governed").GetBoolean());
    }

    [Fact]
    public async Task AgentSendingTheSecret_InTheVeryHeaderTheGatewayInjects_IsStillFlagged()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("ci-bot", "build");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.TryAddWithoutValidation("X-Api-Key", s.ApiKey); // the header the binding replaces
        using var response = await s.Gateway.Agent.SendAsync(request);

        var record = s.Gateway.AuditFor(response);
        Assert.False(record.GetProperty("governed_by").GetProperty("secrets").GetBoolean());
        Assert.False(record.GetProperty("governed").GetBoolean());
    }

    [Fact]
    public async Task Inventory_ShowsWhereEachSecretLivesAndWhatItEnables_NeverTheValue()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("ci-bot", "build");
        await s.Gateway.GetAsync("/api/json", token);
        await s.Gateway.GetAsync("/api/json", token);

        var inventory = await s.Gateway.Admin.GetStringAsync("admin/secrets");
        var (exit, cli) = await CliRunner.RunAsync(["secrets", "--admin", s.Gateway.AdminUri.ToString()]);

        Assert.Equal(0, exit);
        using var doc = System.Text.Json.JsonDocument.Parse(inventory);
        var apiKey = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "api-key");
        Assert.Equal("env", apiKey.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal(s.ApiKeyVariable, apiKey.GetProperty("source").GetProperty("location").GetString());
        Assert.Equal("api", apiKey.GetProperty("bindings")[0].GetProperty("route").GetString());
        Assert.Equal("X-Api-Key: {secret}", apiKey.GetProperty("bindings")[0].GetProperty("inject").GetString());
        Assert.Equal(["build"], apiKey.GetProperty("work_types").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(2, apiKey.GetProperty("injections").GetInt64());
        Assert.Contains(s.BearerFile, inventory);
        Assert.Contains("api-key", cli.ToString());
        Assert.Contains("route api as X-Api-Key: {secret}", cli.ToString());
        AssertNoSecret(s, inventory, cli.ToString());
        Assert.Contains("agentperimeter_secret_injections_total{secret=\"api-key\",route=\"api\"} 2", await s.Gateway.MetricsAsync());
    }
}
