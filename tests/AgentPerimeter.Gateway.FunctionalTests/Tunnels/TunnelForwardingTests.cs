using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using AgentPerimeter.Protocol.Audit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

namespace AgentPerimeter.Gateway.FunctionalTests.Tunnels;

/// <summary>Reverse tunnels: the gateway forwards <c>tunnel://NAME</c> destinations over connections a connector dialed out.</summary>
public class TunnelForwardingTests
{
    internal const string Policy = TestPolicies.Tunnel;

    /// <summary>A streaming upstream behind tunnel "echo" (and a spare "billing"), a gateway, a build token and, if asked, a connector.</summary>
    private sealed class EchoTunnel : IAsyncDisposable
    {
        public required TestUpstream Upstream { get; init; }
        public required TunnelSetup Tunnels { get; init; }
        public required TestGateway Gateway { get; init; }
        public required string Token { get; init; }
        public Microsoft.AspNetCore.Builder.WebApplication? Connector { get; private set; }

        public static async Task<EchoTunnel> StartAsync(bool connector, string id = "test-connector")
        {
            var upstream = await TestUpstream.StartAsync();
            var tunnels = new TunnelSetup("echo", "billing");
            var gateway = await TestGateway.StartAsync("tunnel://echo", Policy, extraArgs: tunnels.GatewayArgs());
            var fixture = new EchoTunnel { Upstream = upstream, Tunnels = tunnels, Gateway = gateway, Token = await gateway.TokenAsync("agent-1", "build") };
            if (connector)
            {
                fixture.Connector = await tunnels.StartConnectorAsync(TunnelSetup.TunnelUri(gateway), "echo", upstream.Url, id: id);
                await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 1);
            }
            return fixture;
        }

        public async ValueTask DisposeAsync()
        {
            if (Connector is not null)
                await Connector.DisposeAsync();
            await Gateway.DisposeAsync();
            Tunnels.Dispose();
            await Upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Request_ThroughConnector_IsForwarded_Audited_AndCounted()
    {
        await using var fixture = await EchoTunnel.StartAsync(connector: true, id: "crm-connector-1");
        var (upstream, tunnels, gateway, token, connector) = (fixture.Upstream, fixture.Tunnels, fixture.Gateway, fixture.Token, fixture.Connector!);

        var response = await gateway.GetAsync("/api/echo/hello?x=1", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"path\":\"/api/echo/hello\"", await response.Content.ReadAsStringAsync());
        var record = gateway.AuditFor(response);
        Assert.Equal("echo", record.GetProperty("tunnel").GetString());
        Assert.Equal("allow", record.GetProperty("decision").GetString());
        Assert.Equal(200, record.GetProperty("upstream_status").GetInt32());
        var connected = Assert.Single(gateway.AuditRecords(), r => r.GetProperty("kind").GetString() == "tunnel" && r.GetProperty("event").GetString() == "connected");
        Assert.Equal("crm-connector-1", connected.GetProperty("connector").GetString());
        Assert.Equal("echo", connected.GetProperty("tunnel").GetString());

        var metrics = await gateway.MetricsAsync();
        Assert.Contains("agentperimeter_tunnel_requests_total{tunnel=\"echo\",result=\"forwarded\"} 1", metrics);
        Assert.Matches("agentperimeter_tunnel_connections\\{tunnel=\"echo\"\\} [1-9]", metrics);
        Assert.Contains("agentperimeter_tunnel_connections{tunnel=\"billing\"} 0", metrics);

        var admin = JsonDocument.Parse(await gateway.Admin.GetStringAsync("admin/tunnels")).RootElement;
        var echo = Assert.Single(admin.EnumerateArray(), t => t.GetProperty("tunnel").GetString() == "echo");
        Assert.Equal("crm-connector-1", Assert.Single(echo.GetProperty("connectors").EnumerateArray()).GetProperty("id").GetString());
        Assert.DoesNotContain(tunnels.Credential("echo"), admin.ToString());
        var (exit, cli) = await CliRunner.RunAsync(["tunnels", "--admin", gateway.AdminUri.ToString()]);
        Assert.Equal(0, exit);
        Assert.Matches(@"echo\s+up\s+\d+\s+crm-connector-1 \(\d+\)", cli.ToString());
        Assert.Matches(@"billing\s+down\s+0\s+-", cli.ToString());

        // The connector's graceful stop is on record too.
        await connector.StopAsync();
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 0);
        await Eventually.UntilAsync(() => gateway.AuditRecords().Any(r => r.GetProperty("kind").GetString() == "tunnel" && r.GetProperty("event").GetString() == "disconnected"),
            TimeSpan.FromSeconds(10), "the connector's disconnection was audited");
        Assert.Contains(gateway.AuditRecords(), r => r.GetProperty("kind").GetString() == "tunnel" && r.GetProperty("event").GetString() == "disconnected");
        Assert.True(AuditVerifier.Verify(gateway.AuditPath).IsIntact);
    }

    [Fact]
    public async Task ThePrivateServer_SeesItsOwnHostName_AndNeitherTheAgentsTokenNorTheTunnelCredential()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var tunnels = new TunnelSetup("echo");
        await using var gateway = await TestGateway.StartAsync("tunnel://echo", Policy, extraArgs: tunnels.GatewayArgs());
        await using var connector = await tunnels.StartConnectorAsync(TunnelSetup.TunnelUri(gateway), "echo", upstream.Url);
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 1);
        var token = await gateway.TokenAsync("agent-1", "build");

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/api/echo/who?q=1", token)).StatusCode);

        var received = Assert.Single(upstream.Received);
        Assert.Equal("/api/echo/who?q=1", received.RawTarget);
        Assert.Equal(new Uri(upstream.Url).Authority, received.Headers["Host"]);
        Assert.False(received.Headers.ContainsKey("Authorization"));
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains(token) || v.Contains(tunnels.Credential("echo")) || v.Contains(".tunnel.invalid"));
    }

    [Fact]
    public async Task TunnelWithNoConnector_Is503_WithAClearReason_Audited()
    {
        await using var fixture = await EchoTunnel.StartAsync(connector: false);
        var (gateway, token) = (fixture.Gateway, fixture.Token);

        var response = await gateway.GetAsync("/api/echo/hello", token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("tunnel_unavailable", body.GetProperty("error").GetString());
        Assert.Contains("no connector is connected", body.GetProperty("message").GetString());
        Assert.Equal(1000, body.GetProperty("retry_after_ms").GetInt32());
        var record = gateway.AuditFor(response);
        Assert.Equal("tunnel_unavailable", record.GetProperty("code").GetString());
        Assert.Equal("echo", record.GetProperty("tunnel").GetString());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("upstream_status").ValueKind);
        Assert.Contains("agentperimeter_tunnel_requests_total{tunnel=\"echo\",result=\"unavailable\"} 1", await gateway.MetricsAsync());
    }

    [Fact]
    public async Task LargeBodies_PassThroughTheTunnel_IntactAndIncrementally()
    {
        await using var fixture = await EchoTunnel.StartAsync(connector: true);
        var (upstream, tunnels, gateway, token, connector) = (fixture.Upstream, fixture.Tunnels, fixture.Gateway, fixture.Token, fixture.Connector!);

        // Up: 8 MiB, streamed (chunked, no length known in advance).
        var upload = TestUpstream.Blob(8 * 1024 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo/upload")
        {
            Content = new StreamContent(new NonSeekableStream(upload)),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var up = await gateway.Agent.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        var echoed = JsonDocument.Parse(await up.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(upload.Length, echoed.GetProperty("length").GetInt64());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(upload)), echoed.GetProperty("sha256").GetString());

        // Down: 8 MiB. The upstream sends the first MiB, then waits until this test has read it through
        // gateway and tunnel: a buffering hop anywhere would deadlock here instead.
        const int length = 8 * 1024 * 1024;
        using var download = new HttpRequestMessage(HttpMethod.Get, $"/api/echo/blob/{length}");
        download.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await gateway.Agent.SendAsync(download, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new byte[length];
        int read = 0;
        var firstMiB = Task.Run(async () =>
        {
            while (read < 1024 * 1024)
            {
                int n = await body.ReadAsync(received.AsMemory(read));
                Assert.True(n > 0, "the stream ended early");
                read += n;
            }
        });
        Assert.True(await Task.WhenAny(firstMiB, Task.Delay(TimeSpan.FromSeconds(15))) == firstMiB, "the first MiB did not arrive before the rest was sent");
        await firstMiB;
        upstream.BlobGate.Release();
        int m;
        while ((m = await body.ReadAsync(received.AsMemory(read))) > 0)
            read += m;
        Assert.Equal(length, read);
        Assert.True(received.AsSpan().SequenceEqual(TestUpstream.Blob(length)), "the body changed on its way");
    }

    [Fact]
    public async Task McpSse_StreamsThroughTheTunnel_EventByEvent_UnderPolicy()
    {
        await using var server = await TestMcpServer.StartAsync();
        using var tunnels = new TunnelSetup("mcp");
        await using var gateway = await TestGateway.StartAsync("tunnel://mcp", McpPolicies.Policy, McpPolicies.Routes("tunnel://mcp"), tunnels.GatewayArgs());
        await using var connector = await tunnels.StartConnectorAsync(TunnelSetup.TunnelUri(gateway), "mcp", server.Url);
        await TunnelSetup.WaitForConnectorsAsync(gateway, "mcp", 1);
        var token = await gateway.TokenAsync("agent-1", "exploration");
        await using var client = await McpSetup.ConnectAsync(new Uri(gateway.AgentUri, "mcp"), token);

        var tools = await client.ListToolsAsync();
        Assert.DoesNotContain(tools, t => t.Name == "deploy"); // filtered for exploration, through the tunnel too
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "staging" }).AsTask());

        var arrivals = new List<double>();
        var clock = Stopwatch.StartNew();
        var progress = new Progress(() => { lock (arrivals) arrivals.Add(clock.Elapsed.TotalMilliseconds); });
        var result = await client.CallToolAsync("slow_job", new Dictionary<string, object?> { ["steps"] = 4, ["path"] = "/workspace/job" }, progress);
        var finished = clock.Elapsed.TotalMilliseconds;

        Assert.Contains("slow_job ran", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        lock (arrivals)
        {
            Assert.True(arrivals.Count >= 3, $"{arrivals.Count} progress notifications");
            // Four notifications 400 ms apart: buffered anywhere, they would all land with the result.
            Assert.True(finished - arrivals[0] > 800, $"first progress at {arrivals[0]:0} ms, result at {finished:0} ms");
        }
        Assert.DoesNotContain(server.ToolCalls, c => c == "tools/call:deploy");
        var calls = gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("method").GetString() == "tools/call").ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("mcp", Assert.Single(calls, r => r.GetProperty("decision").GetString() == "allow").GetProperty("tunnel").GetString());
    }

    [Fact]
    public async Task ClientGoingAway_CancelsTheUpstreamRequest_AcrossTheTunnel()
    {
        await using var fixture = await EchoTunnel.StartAsync(connector: true);
        var (upstream, tunnels, gateway, token, connector) = (fixture.Upstream, fixture.Tunnels, fixture.Gateway, fixture.Token, fixture.Connector!);

        using var cts = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo/slow");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var pending = gateway.Agent.SendAsync(request, cts.Token);
        await upstream.SlowStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        // Gateway → tunnel → connector → private server: the cancellation travels the whole way.
        await upstream.SlowAborted.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Connector_StartedBeforeTheGateway_RetriesWithBackoff_ThenServes()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var tunnels = new TunnelSetup("echo");
        using var closed = new ClosedPort(); // no gateway there yet: every dial is refused
        var port = closed.Port;
        await using var connector = await tunnels.StartConnectorAsync(new Uri($"http://127.0.0.1:{port}/"), "echo", upstream.Url);
        await Eventually.UntilAsync(() => tunnels.ConnectorLog("test-connector").Contains("failed (attempt 3"), TimeSpan.FromSeconds(30),
            "the connector was refused a few times", () => tunnels.ConnectorLog("test-connector"));

        closed.Dispose(); // the gateway takes the port the connector keeps dialing
        await using var gateway = await TestGateway.StartAsync("tunnel://echo", Policy, extraArgs: tunnels.GatewayArgs($"http://127.0.0.1:{port}"));
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 1, TimeSpan.FromSeconds(15));
        var token = await gateway.TokenAsync("agent-1", "build");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/api/echo/ok", token)).StatusCode);
    }

    [Fact]
    public async Task AnHttpsTunnelListener_ConnectorsTrustingItsCa_Connect_AndOthersDoNot()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var tunnels = new TunnelSetup("echo");
        var ca = TestCertificates.CreateAuthority("Perimeter Private CA");
        var (server, serverKey) = TestCertificates.Issue(ca, "gateway", server: true, dnsNames: ["localhost"]);
        using var _ = serverKey;
        var (certPath, keyPath) = TestCertificates.WritePem(tunnels.Dir, "gateway", server, serverKey);
        var (caPath, _) = TestCertificates.WritePem(tunnels.Dir, "ca", ca);
        await using var gateway = await TestGateway.StartAsync("tunnel://echo", Policy, extraArgs:
            [.. tunnels.GatewayArgs("https://127.0.0.1:0"), $"--Gateway:Tls:Certificate={certPath}", $"--Gateway:Tls:Key={keyPath}"]);
        var tunnelUri = TunnelSetup.TunnelUri(gateway);
        Assert.Equal("https", tunnelUri.Scheme);

        // A connector that does not trust the gateway's CA never hands its credential over.
        using (var untrusting = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "untrusting"))
        {
            await untrusting.WaitForOutputAsync("connecting to", TimeSpan.FromSeconds(60));
            Assert.Empty(gateway.App.Services.GetRequiredService<AgentPerimeter.Gateway.Tunnels.TunnelRegistry>().Pool("echo")!.Connectors);
        }
        Assert.DoesNotContain(gateway.AuditRecords(), r => r.GetProperty("kind").GetString() == "tunnel");

        await using var connector = ConnectorApp(tunnels, tunnelUri, upstream.Url, caPath);
        await connector.StartAsync();
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 1);
        var token = await gateway.TokenAsync("agent-1", "build");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/api/echo/over-tls", token)).StatusCode);
    }

    private static Microsoft.AspNetCore.Builder.WebApplication ConnectorApp(TunnelSetup tunnels, Uri gateway, string target, string caFile) =>
        AgentPerimeter.Connector.ConnectorApp.Build(new AgentPerimeter.Connector.ConnectorOptions
        {
            Gateways = [gateway],
            Tunnel = "echo",
            Credential = tunnels.Credential("echo"),
            TargetPrefix = new Uri(target),
            TrustedCaFile = caFile,
            IdleConnections = 2,
            InstanceId = "tls-connector",
        }, b => b.Logging.ClearProviders());

    private sealed class Progress(Action report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report();
    }

    /// <summary>Forces a chunked upload (no Content-Length known in advance).</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
