using System.Net;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Policy;

/// <summary>
/// The exploration work type may only GET /api/public/**. Each attack tries to reach /api/private
/// (or anything else) through an encoding the upstream might decode differently from the gateway.
/// </summary>
public class PathCanonicalizationTests
{
    [Theory]
    [InlineData("/api/public/../private/keys")]
    [InlineData("/api/public/%2e%2e/private/keys")]
    [InlineData("/api/public/%2E%2E/private/keys")]
    [InlineData("/api/public/..%2Fprivate/keys")]
    [InlineData("/api/public/..%2fprivate/keys")]
    [InlineData("/api/public/%2F..%2F..%2Fprivate")]
    [InlineData("/api/public/%252e%252e%252Fprivate/keys")]
    [InlineData("/api/public/..%5Cprivate/keys")]
    [InlineData("/api/public/..%5cprivate/keys")]
    [InlineData("/api/public//../private/keys")]
    [InlineData("//api/private/keys")]
    [InlineData("/api//private/keys")]
    [InlineData("/api/public/./../private/keys")]
    [InlineData("/api/public/%zz")]
    [InlineData("/api/public/..;/private/keys")]
    [InlineData("/api/public/..%3B/private/keys")]
    [InlineData("/api/public;jsessionid=x/../private")]
    public async Task Path_WithTraversalOrEncodedSeparator_CannotEscapeAllowlist(string rawTarget)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var (status, response) = await RawHttp.SendAsync(gw.AgentUri, "GET", rawTarget, token);

        Assert.Equal(400, status);
        Assert.Contains("path_not_canonical", response);
        Assert.Empty(upstream.Received);
        var record = Assert.Single(gw.AuditRecords());
        Assert.Equal("bad_request", record.GetProperty("decision").GetString());
        Assert.Equal("explorer", record.GetProperty("agent").GetString());
    }

    // Kestrel itself refuses some of these (400 before any middleware runs); either way nothing is forwarded.
    [Theory]
    [InlineData("/api/public/..\\private/keys")]
    [InlineData("/api/public/%00/x")]
    [InlineData("/api/public/\u0001")]
    public async Task Path_WithBackslashOrNul_IsRefused_AndNeverForwarded(string rawTarget)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var (status, _) = await RawHttp.SendAsync(gw.AgentUri, "GET", rawTarget, token);

        Assert.Equal(400, status);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task WebSocketUpgrade_IsRefused_SoNoUninspectedTunnelOpens()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var (status, response) = await RawHttp.SendAsync(gw.AgentUri, "GET", "/api/public/socket", token,
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");

        Assert.Equal(400, status);
        Assert.Contains("upgrade_not_allowed", response);
        Assert.Empty(upstream.Received);
    }

    [Theory]
    [InlineData("/api/public/readme", "/api/public/readme")]
    [InlineData("/api/public/a%20b", "/api/public/a%20b")]
    [InlineData("/api/public/caf%C3%A9", "/api/public/caf%C3%A9")]
    [InlineData("/api/public/x?q=..%2F..", "/api/public/x?q=..%2F..")]
    public async Task CanonicalPath_IsForwarded_ExactlyAsChecked(string rawTarget, string expectedUpstreamTarget)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var (status, _) = await RawHttp.SendAsync(gw.AgentUri, "GET", rawTarget, token);

        Assert.Equal(200, status);
        Assert.Equal(expectedUpstreamTarget, Assert.Single(upstream.Received).RawTarget);
    }
}
