using System.Text;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.UnitTests.Policy;

public class Http1FramingScannerTests
{
    private static (long Requests, List<(long, string)> Problems, bool Stopped) Scan(string wire, int split)
    {
        var problems = new List<(long, string)>();
        var scanner = new Http1FramingScanner((i, p) => problems.Add((i, p)));
        var bytes = Encoding.ASCII.GetBytes(wire);
        for (int i = 0; i < bytes.Length; i += split)
            scanner.Scan(bytes.AsSpan(i, Math.Min(split, bytes.Length - i)));
        return (scanner.Requests, problems, scanner.Stopped);
    }

    private const string Pipelined =
        "\r\nPOST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n"
        + "POST /b HTTP/1.1\nHost: x\ncontent-length: 21\n\nGET /hidden HTTP/1.1\r\n"
        + "GET /c HTTP/1.1\r\nHost: x\r\nContent-Length:\t05 \r\n\r\n12345"
        + "GET /d HTTP/1.1\r\nHost: x\r\n\r\n";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(4096)]
    public void WellFramedRequests_AreFollowedAcrossAnySplit_WithNoProblem(int split)
    {
        var (requests, problems, stopped) = Scan(Pipelined, split);

        Assert.Equal(4, requests); // the bytes inside bodies ("GET /hidden ...") are never taken for a request
        Assert.Empty(problems);
        Assert.False(stopped);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", "Content-Length together with Transfer-Encoding")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n", "Content-Length together with Transfer-Encoding")]
    [InlineData("Content-Length: +2\r\n", "hi", "a Content-Length that is not one plain decimal number")]
    public void AmbiguousFraming_IsReported_ForThatRequest_AndTheBoundaryKestrelUsesIsKept(string framing, string body, string expected)
    {
        var wire = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
            + $"POST /bad HTTP/1.1\r\nHost: x\r\n{framing}\r\n{body}"
            + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
        foreach (var split in new[] { 1, 3, 1000 })
        {
            var (requests, problems, _) = Scan(wire, split);
            Assert.Equal((1L, expected), Assert.Single(problems));
            Assert.Equal(3, requests);
        }
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 5\r\n")]
    [InlineData("Content-Length: 5, 5\r\n")]
    [InlineData("Content-Length: -5\r\n")]
    [InlineData("Content-Length: 0x5\r\n")]
    public void ContentLengthKestrelRefuses_IsReported_AndTheScanStops(string framing)
    {
        var (requests, problems, stopped) = Scan($"POST /bad HTTP/1.1\r\nHost: x\r\n{framing}\r\nhello", 1);

        Assert.Equal(1, requests);
        Assert.Equal(0, Assert.Single(problems).Item1);
        Assert.True(stopped);
    }

    [Theory]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")]
    [InlineData("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    public void Http2_Upgrades_AndFramingKestrelRefuses_StopTheScan(string wire)
    {
        var (_, problems, stopped) = Scan(wire + "GET /next HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 5);

        Assert.True(stopped);
        Assert.Empty(problems);
    }

    // Kestrel upgrades only with Upgrade, the "upgrade" token in Connection, and no body; anything else is an
    // ordinary request, and the scan must go on past it.
    [Theory]
    [InlineData("Upgrade: h2c\r\n")]
    [InlineData("Connection: keep-alive\r\nUpgrade: websocket\r\n")]
    [InlineData("Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n", "hi")]
    public void AnUpgradeKestrelWouldNotPerform_DoesNotStopTheScan(string headers, string body = "")
    {
        var (requests, problems, stopped) = Scan($"GET /a HTTP/1.1\r\nHost: x\r\n{headers}\r\n{body}"
            + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 3);

        Assert.False(stopped);
        Assert.Equal(2, requests);
        Assert.Equal((1L, "Content-Length together with Transfer-Encoding"), Assert.Single(problems));
    }

    [Fact]
    public void AStopOtherThanHttp2_NamesTheFirstRequestNotFollowed_AndHttp2NamesNone()
    {
        var upgrade = new Http1FramingScanner((_, _) => { });
        upgrade.Scan(Encoding.ASCII.GetBytes("GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGARBAGE"));
        var h2 = new Http1FramingScanner((_, _) => { });
        h2.Scan(Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));

        Assert.Equal(1, upgrade.StoppedAt);
        Assert.True(h2.Stopped);
        Assert.Null(h2.StoppedAt);
    }
}
