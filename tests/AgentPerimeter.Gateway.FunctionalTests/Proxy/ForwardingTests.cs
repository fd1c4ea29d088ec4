using System.Net;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Proxy;

public class ForwardingTests
{
    [Fact]
    public async Task UnreachableUpstream_Is502_InThePerimetersShape_AndAuditedWithTheException()
    {
        // A port nothing listens on, held so that nothing can start listening there meanwhile.
        using var closed = new ClosedPort();
        var port = closed.Port;
        await using var gw = await TestGateway.StartAsync($"http://127.0.0.1:{port}");
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.GetAsync("/api/repos", token);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"error\":\"upstream_unavailable\"", body);
        Assert.DoesNotContain(port.ToString(), body);
        var record = gw.AuditFor(response);
        Assert.Equal("allow", record.GetProperty("decision").GetString());
        Assert.Equal(JsonValueKindNull, record.GetProperty("upstream_status").ValueKind);
        Assert.Contains("Request", record.GetProperty("exception").GetString());
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [Fact]
    public async Task UpstreamErrorStatus_IsPassedThrough_AndRecorded()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.GetAsync("/api/status/503", token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var record = gw.AuditFor(response);
        Assert.Equal(503, record.GetProperty("upstream_status").GetInt32());
        Assert.Equal("allow", record.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task OversizedBody_Is413_AndNeverForwarded()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ["--Gateway:MaxRequestBodyBytes=1024"]);
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.SendAsync(HttpMethod.Post, "/api/builds", token, new ByteArrayContent(new byte[4096]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("body_too_large", await response.Content.ReadAsStringAsync());
        Assert.Empty(upstream.Received);
        Assert.Equal("bad_request", gw.AuditFor(response).GetProperty("decision").GetString());
    }

    [Fact]
    public async Task HeaderNameWithUnderscore_IsDropped_BeforeForwarding()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/repos");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation("X_Api_Key", "smuggled");
        request.Headers.TryAddWithoutValidation("X-Kept", "plain");
        using var response = await gw.Agent.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(gw.Upstream.Received);
        Assert.DoesNotContain(received.Headers.Keys, k => k.Contains('_'));
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains("smuggled"));
        Assert.Equal("plain", received.Headers["X-Kept"]);
    }

    [Fact]
    public async Task BrowserOriginNotListed_IsRefused_ListedOneAndNoOriginPass()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ["--Gateway:AllowedOrigins:0=https://console.example.com"]);
        var token = await gw.TokenAsync("ci-bot", "build");
        async Task<System.Net.HttpStatusCode> SendAsync(string? origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/repos");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            if (origin is not null)
                request.Headers.TryAddWithoutValidation("Origin", origin);
            using var response = await gw.Agent.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, await SendAsync("http://evil.example"));   // a page DNS-rebound onto the gateway
        Assert.Equal(System.Net.HttpStatusCode.OK, await SendAsync("https://console.example.com"));
        Assert.Equal(System.Net.HttpStatusCode.OK, await SendAsync(null));                         // agents are not browsers
        Assert.Equal(2, gw.Upstream.Received.Count);
        Assert.Contains(gw.AuditRecords(), r => r.GetProperty("code").GetString() == "origin_not_allowed");
    }

    [Fact]
    public async Task HostNotListed_IsRefused_WhenAllowedHostsIsSet()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ["--Gateway:AllowedHosts:0=gateway.internal"]);
        var token = await gw.TokenAsync("ci-bot", "build");
        using var refused = await gw.GetAsync("/api/repos", token); // Host: 127.0.0.1:port
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("host_not_allowed", await refused.Content.ReadAsStringAsync());
        Assert.Empty(gw.Upstream.Received);
    }
}
