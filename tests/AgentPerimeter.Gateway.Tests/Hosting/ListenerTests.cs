using System.Net;
using AgentPerimeter.Gateway.Tests.Infrastructure;

namespace AgentPerimeter.Gateway.Tests.Hosting;

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
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gw = await TestGateway.StartAsync(upstream.Url);
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
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gw = await TestGateway.StartAsync(upstream.Url);
        var token = await gw.TokenAsync("ci-bot", "build");

        var (status, _) = await RawHttp.SendAsync(gw.AdminUri, "GET", "/api/repos", token);

        Assert.Equal(404, status);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task AdminListener_ServesHealthReadinessAndMetrics()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gw = await TestGateway.StartAsync(upstream.Url);

        Assert.Equal("ok\n", await gw.Admin.GetStringAsync("healthz"));
        var ready = await gw.Admin.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"ready\"", await ready.Content.ReadAsStringAsync());
        Assert.Contains("# TYPE agentperimeter_actions_total counter", await gw.MetricsAsync());
        Assert.Contains("\"kty\":\"RSA\"", await gw.Admin.GetStringAsync(".well-known/jwks.json"));
    }
}
