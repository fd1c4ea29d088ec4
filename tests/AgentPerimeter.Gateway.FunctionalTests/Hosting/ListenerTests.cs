using System.Net;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

namespace AgentPerimeter.Gateway.FunctionalTests.Hosting;

public class ListenerTests
{
    [Theory]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/healthz")]
    [InlineData("GET", "/readyz")]
    [InlineData("GET", "/admin/policy")]
    [InlineData("POST", "/admin/sessions")]
    [InlineData("GET", "/.well-known/jwks.json")]
    public async Task AdminEndpoints_DoNotExistOnTheAgentListener(string method, string path)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");

        // Even with the admin listener's authority in the Host header.
        var (status, body) = await RawHttp.SendAsync(gw.AgentUri, method, path, token,
            extraHeaders: $"X-Forwarded-Host: {gw.AdminUri.Authority}\r\nContent-Length: 0\r\n");

        Assert.Equal(404, status);
        Assert.Contains("route_not_found", body);
        Assert.DoesNotContain("agentperimeter_actions_total", body);
        Assert.Equal("not_found", Assert.Single(gw.AuditRecords()).GetProperty("decision").GetString());
    }

    [Fact]
    public async Task ProxiedRoutes_DoNotExistOnTheAdminListener()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        var (status, _) = await RawHttp.SendAsync(gw.AdminUri, "GET", "/api/repos", token);

        Assert.Equal(404, status);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task AdminToken_WhenConfigured_GuardsTheAdminApi_ButNotHealthOrMetrics()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var tokenFile = Path.Combine(Directory.CreateTempSubdirectory("perimeter-admin-").FullName, "admin-token");
        var adminToken = TestSecrets.New("admin");
        File.WriteAllText(tokenFile, adminToken + "\n");
        await using var gw = await TestGateway.StartAsync(upstream.Url, extraArgs: [$"--Gateway:Admin:TokenFile={tokenFile}"]);

        var anonymous = await gw.Admin.PostAsync("admin/sessions", new StringContent("""{"agent":"x","workType":"build"}""", System.Text.Encoding.UTF8, "application/json"));
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "admin/sessions");
        wrong.Headers.Authorization = new("Bearer", "not-the-admin-token");
        var wrongAnswer = await gw.Admin.SendAsync(wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("admin_unauthorized", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Admin.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Admin.GetAsync("metrics")).StatusCode);

        var (exit, output) = await CliRunner.RunAsync(["token", "--work-type", "build", "--agent", "ci-bot", "--admin", gw.AdminUri.ToString(), "--admin-token-file", tokenFile]);
        Assert.Equal(0, exit);
        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/repos", output.ToString().Trim())).StatusCode);
    }

    [Fact]
    public async Task AdminListener_ServesHealthReadinessAndMetrics()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();

        Assert.Equal("ok\n", await gw.Admin.GetStringAsync("healthz"));
        var ready = await gw.Admin.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"ready\"", await ready.Content.ReadAsStringAsync());
        Assert.Contains("# TYPE agentperimeter_actions_total counter", await gw.MetricsAsync());
        Assert.Contains("\"kty\":\"RSA\"", await gw.Admin.GetStringAsync(".well-known/jwks.json"));
    }
}
