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

    // Request smuggling: a body framed two ways can be split differently by the gateway and the upstream.
    // A transfer coding other than plain "chunked" and a repeated Content-Length are refused, never forwarded.
    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!")]
    [InlineData("Content-Length: -5\r\n", "hello")]
    [InlineData("Content-Length: 5, 5\r\n", "hello")]
    [InlineData("Content-Length: 0x5\r\n", "hello")]
    [InlineData("Transfer-Encoding: gzip\r\n", "hello")]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")]
    public async Task Request_FramedAmbiguously_IsRefused_AndNeverForwarded(string framing, string body)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var (status, _) = await RawHttp.SendAsync(gw.AgentUri, "GET", "/api/public/readme", token, framing, body);

        Assert.Equal(400, status);
        Assert.Empty(upstream.Received);
    }

    // Content-Length with Transfer-Encoding (CL.TE / TE.CL): Kestrel follows RFC 9112 section 6.1 — the
    // body is read as chunked and Content-Length is dropped — so what hides after the chunked body is
    // parsed by the gateway as a request of its own (and refused without a token), never smuggled upstream.
    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 60\r\n")]
    [InlineData("Content-Length: 60\r\nTransfer-Encoding: chunked\r\n")]
    public async Task ContentLengthWithTransferEncoding_CannotSmuggleASecondRequest(string framing)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");
        const string smuggled = "0\r\n\r\nGET /api/private/keys HTTP/1.1\r\nHost: x\r\n\r\n";

        await RawHttp.SendAsync(gw.AgentUri, "GET", "/api/public/readme", token, framing, smuggled);

        Assert.DoesNotContain(upstream.Received, r => r.Path.Contains("private", StringComparison.Ordinal));
        Assert.All(upstream.Received, r => Assert.Equal("/api/public/readme", r.RawTarget));
        Assert.False(upstream.Received.Single().Headers.ContainsKey("Content-Length")
            && upstream.Received.Single().Headers.ContainsKey("Transfer-Encoding"));
    }
}
