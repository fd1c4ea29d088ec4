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
}
