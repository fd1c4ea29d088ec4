using System.Net.Sockets;
using System.Text;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Metrics;

/// <summary>Requests Kestrel refuses before the pipeline are counted, not invisible.</summary>
public sealed class RejectedRequestMetricsTests
{
    private static async Task<string> SendRawAsync(Uri uri, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = await stream.ReadAsync(buffer, cts.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task MalformedRequests_RefusedByKestrel_AreCountedByReason()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var uri = gw.AgentUri;

        var answers = new[]
        {
            await SendRawAsync(uri, "GET /api/repos HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n"),                       // obs-fold
            await SendRawAsync(uri, "GET /api/repos HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"), // repeated Content-Length
            await SendRawAsync(uri, "GET /api/repos HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('a', 40_000) + "\r\n\r\n"),  // 431
            await SendRawAsync(uri, "GARBAGE\r\n\r\n"),                                                                         // not a request line
        };

        Assert.All(answers, a => Assert.Matches(@"^HTTP/1\.1 4\d\d ", a));
        string metrics = "";
        double total = 0;
        for (int i = 0; i < 50 && total < answers.Length; i++, await Task.Delay(100))
        {
            metrics = await gw.MetricsAsync();
            total = metrics.Split('\n').Where(l => l.StartsWith("agentperimeter_rejected_requests_total{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.True(total >= answers.Length, metrics);
        Assert.Contains("agentperimeter_rejected_requests_total{reason=\"invalid_request_headers\"} 2", metrics);
        Assert.Contains("agentperimeter_rejected_requests_total{reason=\"max_request_headers_total_size_exceeded\"} 1", metrics);
        Assert.Contains("agentperimeter_rejected_requests_total{reason=\"invalid_request_line\"} 1", metrics);
        Assert.DoesNotContain(gw.AuditRecords(), r => r.GetProperty("path").GetString() == "/api/repos");
        // Recorded as far as Kestrel tells: an operator log line per reason (rate-limited), with the listener.
        var refusedLines = gw.LogText().Split('\n').Where(l => l.Contains("Kestrel refused a request before the perimeter", StringComparison.Ordinal)).ToList();
        Assert.Contains(refusedLines, l => l.Contains("invalid_request_line", StringComparison.Ordinal));
        Assert.Contains(refusedLines, l => l.Contains("max_request_headers_total_size_exceeded", StringComparison.Ordinal));
    }
}
