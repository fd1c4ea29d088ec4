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

    // Content-Length with Transfer-Encoding (CL.TE / TE.CL): Kestrel alone would read the body as chunked
    // and drop Content-Length (RFC 9112 section 6.1); an upstream or a proxy in between may frame it by the
    // length. The perimeter refuses the request (400 ambiguous_framing, audited) and closes the connection,
    // so neither it nor what hides after it is forwarded. A signed length ("+2" is 2 to Kestrel) likewise.
    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 60\r\n", "0\r\n\r\nGET /api/private/keys HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("Content-Length: 60\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nGET /api/private/keys HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("Content-Length: +2\r\n", "hiGET /api/private/keys HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("Content-Length:  +0 \r\n", "GET /api/private/keys HTTP/1.1\r\nHost: x\r\n\r\n")]
    public async Task BodyFramedTwoWays_IsRefused_Audited_AndNothingIsForwarded(string framing, string body)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var (status, response) = await RawHttp.SendAsync(gw.AgentUri, "GET", "/api/public/readme", token, framing, body);

        Assert.Equal(400, status);
        Assert.Contains("ambiguous_framing", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(upstream.Received);
        var record = Assert.Single(gw.AuditRecords());
        Assert.Equal("ambiguous_framing", record.GetProperty("code").GetString());
        Assert.Equal("/api/public/readme", record.GetProperty("path").GetString());
    }

    // Requests kept alive on one connection: a well-framed chunked body, a Content-Length body and a
    // bodiless request, sent back to back, are all forwarded (the scan keeps each message's boundary),
    // and the ambiguous one after them is refused.
    [Fact]
    public async Task PipelinedRequests_KeepTheirBoundaries_AndOnlyTheAmbiguousOneIsRefused()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");
        string Head(string method, string extra) =>
            $"{method} /api/public/readme HTTP/1.1\r\nHost: {gw.AgentUri.Authority}\r\nAuthorization: Bearer {token}\r\n{extra}\r\n";
        const string hidden = "GET /api/private/keys HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
        var wire = Head("GET", "Transfer-Encoding: chunked\r\n") + "5;ext=1\r\nhello\r\n0\r\nTrailer-Field: x\r\n\r\n"
            + Head("GET", $"Content-Length: {hidden.Length}\r\n") + hidden
            + Head("GET", "")
            + Head("GET", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n";

        var responses = await RawHttp.SendWireAsync(gw.AgentUri, wire);

        Assert.Equal([200, 200, 200, 400], responses);
        Assert.Equal(3, upstream.Received.Count);
        Assert.All(upstream.Received, r => Assert.Equal("/api/public/readme", r.RawTarget));
    }

    // Kept alive (the client does not ask to close): after an ambiguous request the gateway closes the
    // connection itself, so nothing sent after it on that connection is read, let alone forwarded.
    [Theory]
    [InlineData("Content-Length: +2\r\n", "hi")]
    [InlineData("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")]
    public async Task AfterAnAmbiguousRequest_TheGatewayClosesAKeptAliveConnection(string framing, string body)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        string Head(string extra) => $"GET /api/public/readme HTTP/1.1\r\nHost: {gw.AgentUri.Authority}\r\nAuthorization: Bearer {token}\r\n{extra}\r\n";

        var responses = await RawHttp.SendWireAsync(gw.AgentUri, Head(framing) + body + Head(""));

        Assert.Equal([400], responses);
        Assert.Empty(gw.Upstream.Received);
    }

    // An Upgrade header alone (no "Connection: upgrade") is no upgrade to Kestrel: the scan must go on, so a
    // request framed two ways after it is still refused. A real upgrade request is refused and the connection
    // closed, so bytes after it are never read as requests.
    [Fact]
    public async Task AnUpgradeHeader_DoesNotSwitchTheFramingCheckOff_AndARealUpgradeEndsTheConnection()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        string Head(string extra) => $"GET /api/public/readme HTTP/1.1\r\nHost: {gw.AgentUri.Authority}\r\nAuthorization: Bearer {token}\r\n{extra}\r\n";

        var notAnUpgrade = await RawHttp.SendWireAsync(gw.AgentUri,
            Head("Upgrade: x\r\n") + Head("Content-Length: 40\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n");
        var upgrade = await RawHttp.SendWireAsync(gw.AgentUri,
            Head("Connection: Upgrade\r\nUpgrade: websocket\r\n") + Head(""));

        Assert.Equal([200, 400], notAnUpgrade);
        Assert.Equal([400], upgrade);
        Assert.Single(gw.Upstream.Received);
    }
}
