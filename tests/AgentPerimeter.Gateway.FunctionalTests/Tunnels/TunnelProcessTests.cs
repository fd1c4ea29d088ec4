using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using AgentPerimeter.Protocol.Audit;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Gateway.FunctionalTests.Tunnels;

/// <summary>Connectors (and, end to end, the gateway and the private server) as real processes.</summary>
public class TunnelProcessTests
{
    [Fact]
    public async Task PrivateMcpServer_OnAUnixSocket_IsListedAndCalled_ThroughGatewayAndConnector()
    {
        // The MCP server listens on a Unix socket only the connector is told about: the gateway has no
        // address for it at all, only the tunnel name.
        using var tunnels = new TunnelSetup("private-docs");
        var socket = Path.Combine(tunnels.Dir, "mcp.sock");
        using var server = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.DemoUpstream", "AgentPerimeter.DemoUpstream"), ["--urls", $"http://unix:{socket}"]);
        var dir = Directory.CreateTempSubdirectory("perimeter-e2e-").FullName;
        const string routes = """
            { "ReverseProxy": {
                "Routes": { "private-mcp": { "ClusterId": "private", "Match": { "Path": "/private/mcp" }, "Metadata": { "Perimeter.Mcp": "true" },
                                             "Transforms": [ { "PathSet": "/mcp" } ] } },
                "Clusters": { "private": { "Destinations": { "via-tunnel": { "Address": "tunnel://private-docs" } } } } } }
            """;
        const string policy = """
            { "Perimeter": { "WorkTypes": { "exploration": { "Rules": [
                { "Id": "explore-private-docs", "Route": "private-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/private/mcp" ], "Tools": [ "search_*", "read_page" ] } ] } } } }
            """;
        var args = TestGateway.PrepareConfig(dir, "tunnel://private-docs", policy, routes, tunnels.GatewayArgs()).Where(a => a != "--Gateway:Logging:Console=false");
        using var gateway = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), args);
        await gateway.WaitForOutputAsync("Connectors dial", TimeSpan.FromSeconds(60));
        var listening = Regex.Match(gateway.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
        var tunnelUri = Regex.Match(gateway.Output, "\"TunnelUri\":\"(?<uri>[^\"]+)\"").Groups["uri"].Value;
        await Eventually.WithinAsync(() => File.Exists(socket), TimeSpan.FromSeconds(20));
        Assert.True(File.Exists(socket), server.Output);

        using var connector = tunnels.StartConnectorProcess(new Uri(tunnelUri), "private-docs", "unix:" + socket, "docs-connector");
        await connector.WaitForOutputAsync("connected to", TimeSpan.FromSeconds(60));

        using var admin = new HttpClient { BaseAddress = new Uri(listening.Groups["admin"].Value) };
        var session = await admin.PostAsJsonAsync("admin/sessions", new { agent = "e2e-agent", workType = "exploration" });
        var token = JsonDocument.Parse(await session.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        await using (var client = await McpSetup.ConnectAsync(new Uri(new Uri(listening.Groups["agent"].Value), "private/mcp"), token))
        {
            var tools = (await client.ListToolsAsync()).Select(t => t.Name).Order().ToArray();
            Assert.Equal(["read_page", "search_docs"], tools);
            var result = await client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["query"] = "deploy" });
            Assert.Contains("deploy", Assert.IsType<TextContentBlock>(result.Content[0]).Text, StringComparison.OrdinalIgnoreCase);
            var refusal = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", new Dictionary<string, object?> { ["repo"] = "infra", ["env"] = "production" }).AsTask());
            Assert.Contains("policy_denied", refusal.Message + JsonSerializer.Serialize(refusal.Data));
        }

        var auditPath = Path.Combine(dir, "data", "audit.jsonl");
        // Each action's final record (intents are the first half of a forwarded action's pair).
        var records = File.ReadAllLines(auditPath).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => !(r.TryGetProperty("phase", out var p) && p.GetString() == "intent")).ToList();
        var calls = records.Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("method").GetString() == "tools/call").ToList();
        Assert.Equal(2, calls.Count);
        var allowed = Assert.Single(calls, r => r.GetProperty("decision").GetString() == "allow");
        Assert.Equal("search_docs", allowed.GetProperty("mcp").GetProperty("target").GetString());
        Assert.Equal("private-docs", allowed.GetProperty("tunnel").GetString());
        var denied = Assert.Single(calls, r => r.GetProperty("decision").GetString() == "deny");
        Assert.Equal("deploy", denied.GetProperty("mcp").GetProperty("target").GetString());
        Assert.False(denied.TryGetProperty("tunnel", out _), "a denied call never reaches the tunnel");
        Assert.Contains(records, r => r.GetProperty("kind").GetString() == "tunnel" && r.GetProperty("event").GetString() == "connected"
            && r.GetProperty("connector").GetString() == "docs-connector");
        Assert.True(AuditVerifier.Verify(auditPath).IsIntact);
        TestSecrets.AssertNoneIn(Path.Combine(dir, "data"));
        Assert.DoesNotContain(tunnels.Credential("private-docs"), gateway.Output + connector.Output);
    }

    [Fact]
    public async Task WrongCredential_AndAnotherTunnelsCredential_AreRefused_Audited_AndTheConnectorExits()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var tunnels = new TunnelSetup("echo", "billing");
        await using var gateway = await TestGateway.StartAsync("tunnel://echo", TunnelForwardingTests.Policy, extraArgs: tunnels.GatewayArgs());
        var tunnelUri = TunnelSetup.TunnelUri(gateway);
        var wrongFile = Path.Combine(tunnels.Dir, "wrong");
        var wrong = TestSecrets.New("wrong-credential");
        await File.WriteAllTextAsync(wrongFile, wrong);

        using (var impostor = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "impostor", wrongFile))
        {
            Assert.Equal(3, await impostor.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("refused this connector", impostor.Output);
            Assert.Contains("bad_credential", impostor.Output);
            Assert.DoesNotContain(wrong, impostor.Output);
        }
        // Knocking again within the minute is counted, not written again: no flooding the audit log.
        using (var again = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "impostor", wrongFile))
            Assert.Equal(3, await again.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        // The billing connector's (valid) credential does not open the echo tunnel.
        using (var sideways = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "billing-connector", tunnels.CredentialFile("billing")))
        {
            Assert.Equal(3, await sideways.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("not_entitled", sideways.Output);
        }

        var refused = gateway.AuditRecords().Where(r => r.GetProperty("kind").GetString() == "tunnel" && r.GetProperty("event").GetString() == "refused").ToList();
        Assert.Single(refused, r => r.GetProperty("code").GetString() == "bad_credential" && r.GetProperty("connector").GetString() == "impostor");
        Assert.Contains(refused, r => r.GetProperty("code").GetString() == "not_entitled" && r.GetProperty("connector").GetString() == "billing-connector");
        Assert.Equal(0, gateway.App.Services.GetRequiredService<AgentPerimeter.Gateway.Tunnels.TunnelRegistry>().Pool("echo")!.LiveConnections);
        Assert.Contains("agentperimeter_tunnel_connector_events_total{tunnel=\"echo\",event=\"refused\"} 3", await gateway.MetricsAsync());
        // Disposing the gateway greps its audit log and log file for both credentials and the wrong one.
    }

    [Fact]
    public async Task KillingTheConnector_MidRequest_FailsThatRequestCleanly_AndARestartedConnectorServesAgain()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var tunnels = new TunnelSetup("echo");
        await using var gateway = await TestGateway.StartAsync("tunnel://echo", TunnelForwardingTests.Policy, extraArgs: tunnels.GatewayArgs());
        var token = await gateway.TokenAsync("agent-1", "build");
        var tunnelUri = TunnelSetup.TunnelUri(gateway);

        var first = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "first");
        try
        {
            await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 1, TimeSpan.FromSeconds(60));
            var pending = gateway.GetAsync("/api/echo/slow", token);
            await upstream.SlowStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
            first.Kill(); // SIGKILL: no goodbye on any connection

            var response = await pending.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("upstream_unavailable", body.GetProperty("error").GetString());
            var record = gateway.AuditFor(response);
            Assert.Equal(502, record.GetProperty("status").GetInt32());
            Assert.Equal("echo", record.GetProperty("tunnel").GetString());
            Assert.False(string.IsNullOrEmpty(record.GetProperty("exception").GetString()));
        }
        finally
        {
            first.Dispose();
        }
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 0);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.GetAsync("/api/echo/ok", token)).StatusCode);

        using var second = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "second");
        HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
        await Eventually.UntilAsync(async () => (status = (await gateway.GetAsync("/api/echo/ok", token)).StatusCode) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the restarted connector served again", () => second.Output);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task TwoConnectors_ShareTheLoad_AndKillingOneLosesNoNewRequest()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var tunnels = new TunnelSetup("echo");
        await using var gateway = await TestGateway.StartAsync("tunnel://echo", TunnelForwardingTests.Policy, extraArgs: tunnels.GatewayArgs());
        var token = await gateway.TokenAsync("agent-1", "build");
        var tunnelUri = TunnelSetup.TunnelUri(gateway);
        using var a = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "conn-a", idle: 3);
        using var b = tunnels.StartConnectorProcess(tunnelUri, "echo", upstream.Url, "conn-b", idle: 3);
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 2, TimeSpan.FromSeconds(60));

        // Concurrent requests spread over both connectors' connections.
        var warmup = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => gateway.GetAsync($"/api/echo/warm/{i}", token)));
        Assert.All(warmup, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        // Each connector had its idle connections claimed and opened replacements: both carried requests.
        var pool = gateway.App.Services.GetRequiredService<AgentPerimeter.Gateway.Tunnels.TunnelRegistry>().Pool("echo")!;
        Assert.All(pool.Connectors, c => Assert.True(c.Value > 3, $"{c.Key} holds {c.Value} connections"));

        a.Kill(); // SIGKILL
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 60; i++)
            statuses.Add((await gateway.GetAsync($"/api/echo/after/{i}", token)).StatusCode);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => gateway.GetAsync($"/api/echo/burst/{i}", token)));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await TunnelSetup.WaitForConnectorsAsync(gateway, "echo", 1);
        Assert.Equal("conn-b", Assert.Single(gateway.App.Services.GetRequiredService<AgentPerimeter.Gateway.Tunnels.TunnelRegistry>().Pool("echo")!.Connectors).Key);
    }
}
