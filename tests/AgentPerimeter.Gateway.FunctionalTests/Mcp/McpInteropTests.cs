using System.Text.Json;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Mcp;

/// <summary>A client nobody on this project wrote: the official TypeScript SDK, run by Node.js.</summary>
public class McpInteropTests
{
    private static string NodeDir() => Path.Combine(TestPaths.RepoRoot(), "tests", "AgentPerimeter.Gateway.FunctionalTests", "Mcp", "node");

    [Fact]
    public async Task TypeScriptSdkClient_ListsAndCallsThroughTheGateway()
    {
        var dir = NodeDir();
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "@modelcontextprotocol", "sdk")),
            "the TypeScript MCP SDK is not installed: run tests/run.sh (it runs 'npm ci' in " + dir + ")");
        await using var setup = await McpSetup.StartAsync();
        var token = await setup.Gateway.TokenAsync("ts-agent", "exploration");

        var allowed = await RunAsync(dir, setup, token, "search_docs", """{"text":"hello"}""");
        var denied = await RunAsync(dir, setup, token, "deploy", """{"env":"production"}""");

        Assert.Equal(["read_file", "search_docs", "slow_job"], allowed.GetProperty("tools").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.True(allowed.GetProperty("call").GetProperty("ok").GetBoolean());
        Assert.Contains("search_docs ran with text=hello", allowed.GetProperty("call").GetProperty("text").GetString());
        Assert.False(denied.GetProperty("call").GetProperty("ok").GetBoolean());
        Assert.Contains("policy_denied", denied.GetProperty("call").GetProperty("error").GetString());
        Assert.Equal(["tools/call:search_docs"], setup.Server.ToolCalls);
        // The v1 SDK stays on 2025-11-25 (initialize handshake, a session id) and keeps working as before.
        Assert.All(setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("protocol_version", out _)),
            r => Assert.Equal("2025-11-25", r.GetProperty("mcp").GetProperty("protocol_version").GetString()));
        Assert.Contains(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("protocol_version", out _));
    }

    /// <summary>The official C# SDK pinned to MCP 2026-07-28 (no initialize handshake, no session): list filtered, allowed call, refusal with the perimeter's reason.</summary>
    [Fact]
    public async Task CSharpSdkClient_Pinned20260728_ThroughTheGateway()
    {
        await using var setup = await McpSetup.StartForModernClientsAsync();
        var token = await setup.Gateway.TokenAsync("cs-2026-agent", "exploration");
        await using var client = await ModelContextProtocol.Client.McpClient.CreateAsync(
            new ModelContextProtocol.Client.HttpClientTransport(new ModelContextProtocol.Client.HttpClientTransportOptions
            {
                Endpoint = setup.McpUri,
                TransportMode = ModelContextProtocol.Client.HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }),
            new ModelContextProtocol.Client.McpClientOptions { ProtocolVersion = "2026-07-28" });

        var tools = await client.ListToolsAsync();
        var result = await client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "hello" });
        var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(
            () => client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "production" }).AsTask());

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Equal(["read_file", "search_docs", "slow_job"], tools.Select(t => t.Name).Order());
        Assert.Contains("search_docs ran with text=hello", string.Concat(result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(c => c.Text)));
        Assert.Contains("[policy_denied]", refused.Message);
        Assert.Equal(["tools/call:search_docs"], setup.Server.ToolCalls);
        Assert.Contains(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("protocol_version", out var v) && v.GetString() == "2026-07-28");
        Assert.DoesNotContain(setup.Gateway.AuditRecords(), r => r.TryGetProperty("code", out var c) && c.GetString() == "method_not_allowed");
    }

    private static async Task<JsonElement> RunAsync(string dir, McpSetup setup, string token, string tool, string args)
    {
        using var node = ChildProcess.StartExecutable("node", [Path.Combine(dir, "client.mjs"), setup.McpUri.ToString(), token, tool, args], dir);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, node.Output);
        var line = node.Output.Split('\n').Last(l => l.StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>The v2 TypeScript SDK, pinned to MCP 2026-07-28 and in auto mode: server/discover passes, the list is filtered, the perimeter's reason reaches the client.</summary>
    [Theory]
    [InlineData("pin")]
    [InlineData("auto")]
    public async Task TypeScriptSdkV2Client_Mcp20260728_ThroughTheGateway(string mode)
    {
        var dir = NodeDir();
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "@modelcontextprotocol", "client")),
            "the TypeScript MCP SDK v2 is not installed: run tests/run.sh (it runs 'npm ci' in " + dir + ")");
        await using var setup = await McpSetup.StartForModernClientsAsync();
        var token = await setup.Gateway.TokenAsync("ts-v2-agent", "exploration");

        var allowed = await RunV2Async(dir, setup, token, "search_docs", """{"text":"hello"}""", mode);
        var denied = await RunV2Async(dir, setup, token, "deploy", """{"env":"production"}""", mode);

        Assert.True(allowed.GetProperty("connected").GetBoolean(), allowed.ToString());
        if (mode == "pin")
            Assert.Equal("2026-07-28", allowed.GetProperty("protocolVersion").GetString());
        Assert.Equal(["read_file", "search_docs", "slow_job"], allowed.GetProperty("tools").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.True(allowed.GetProperty("call").GetProperty("ok").GetBoolean(), allowed.ToString());
        Assert.False(denied.GetProperty("call").GetProperty("ok").GetBoolean());
        Assert.Contains("policy_denied", denied.GetProperty("call").ToString());
        Assert.Equal(["tools/call:search_docs"], setup.Server.ToolCalls);
        // Each action's protocol version is in its record and in a bounded metric label.
        var version = mode == "pin" ? "2026-07-28" : allowed.GetProperty("protocolVersion").GetString();
        Assert.Contains(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("protocol_version", out var v) && v.GetString() == version);
        Assert.Contains($"agentperimeter_mcp_protocol_actions_total{{work_type=\"exploration\",route=\"tools-mcp\",protocol_version=\"{version}\"}}", await setup.Gateway.MetricsAsync());
        // Nothing of the negotiation was refused by the perimeter.
        Assert.DoesNotContain(setup.Gateway.AuditRecords(), r => r.TryGetProperty("code", out var c) && c.GetString() == "method_not_allowed");
    }

    /// <summary>The v2 SDK's request with its Mcp-Name header rewritten on the way (the body still says search_docs): refused before the server, the reason reaches the client.</summary>
    [Fact]
    public async Task TypeScriptSdkV2Client_WhoseMirroredHeaderDisagreesWithTheBody_IsRefusedBeforeTheServer()
    {
        var dir = NodeDir();
        await using var setup = await McpSetup.StartForModernClientsAsync();
        var token = await setup.Gateway.TokenAsync("ts-v2-agent", "build");

        var result = await RunV2Async(dir, setup, token, "search_docs", """{"text":"hello"}""", "pin", "tamper");

        Assert.True(result.GetProperty("connected").GetBoolean(), result.ToString());
        Assert.False(result.GetProperty("call").GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Contains("header_mismatch", result.GetProperty("call").ToString());
        Assert.Empty(setup.Server.ToolCalls);
        Assert.Contains(setup.Gateway.AuditRecords(), r => r.GetProperty("code").GetString() == "header_mismatch");
    }

    /// <summary>
    /// Both sides nobody here wrote: the TypeScript SDK v2 server (@modelcontextprotocol/server) behind the
    /// gateway, the TypeScript SDK v2 client pinned to 2026-07-28 and the C# SDK in 2026-07-28 mode in front:
    /// the list filtered, the allowed call run, the denied one refused with the perimeter's reason, a
    /// header/body mismatch refused — and the server ran only what was allowed.
    /// </summary>
    [Fact]
    public async Task TypeScriptSdkV2Server_BehindTheGateway_ServesBothSdksIn20260728_AsThePolicySays()
    {
        var dir = NodeDir();
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "@modelcontextprotocol", "server")),
            "the TypeScript MCP SDK v2 server is not installed: run tests/run.sh (it runs 'npm ci' in " + dir + ")");
        using var server = ChildProcess.StartExecutable("node", [Path.Combine(dir, "server-v2.mjs")], dir);
        await server.WaitForOutputAsync("listening on ", TimeSpan.FromSeconds(30));
        var port = System.Text.RegularExpressions.Regex.Match(server.Output, @"listening on (\d+)").Groups[1].Value;
        var serverUrl = $"http://127.0.0.1:{port}/mcp";
        await using var gateway = await TestGateway.StartAsync(serverUrl, McpPolicies.Policy, McpPolicies.Routes(serverUrl));
        var setup = new Uri(gateway.AgentUri, "mcp").ToString();
        var token = await gateway.TokenAsync("ts-v2-agent", "exploration");

        async Task<JsonElement> V2(string tool, string args, string tamper = "")
        {
            using var node = ChildProcess.StartExecutable("node", [Path.Combine(dir, "client-v2.mjs"), setup, token, tool, args, "pin", tamper], dir);
            Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, node.Output);
            return JsonDocument.Parse(node.Output.Split('\n').Last(l => l.StartsWith('{'))).RootElement.Clone();
        }
        var allowed = await V2("search_docs", """{"text":"hello"}""");
        var denied = await V2("deploy", """{"env":"production"}""");
        var tampered = await V2("search_docs", """{"text":"hello"}""", "tamper");

        Assert.Equal("2026-07-28", allowed.GetProperty("protocolVersion").GetString());
        Assert.Equal(["read_file", "search_docs"], allowed.GetProperty("tools").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.True(allowed.GetProperty("call").GetProperty("ok").GetBoolean(), allowed.ToString());
        Assert.Contains("search_docs ran with text=hello", allowed.GetProperty("call").GetProperty("text").GetString());
        Assert.Contains("policy_denied", denied.GetProperty("call").ToString());
        Assert.Contains("header_mismatch", tampered.GetProperty("call").ToString());

        await using (var cs = await ModelContextProtocol.Client.McpClient.CreateAsync(
            new ModelContextProtocol.Client.HttpClientTransport(new ModelContextProtocol.Client.HttpClientTransportOptions
            {
                Endpoint = new Uri(setup),
                TransportMode = ModelContextProtocol.Client.HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }), new ModelContextProtocol.Client.McpClientOptions { ProtocolVersion = "2026-07-28" }))
        {
            Assert.Equal(["read_file", "search_docs"], (await cs.ListToolsAsync()).Select(t => t.Name).Order());
            var read = await cs.CallToolAsync("read_file", new Dictionary<string, object?> { ["path"] = "/workspace/README.md" });
            Assert.Contains("read /workspace/README.md", string.Concat(read.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(c => c.Text)));
            var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => cs.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "staging" }).AsTask());
            Assert.Contains("[policy_denied]", refused.Message);
        }

        var calls = server.Output.Split('\n').Where(l => l.StartsWith("called ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(["called search_docs", "called read_file"], calls);
        Assert.Contains(gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("protocol_version", out var v) && v.GetString() == "2026-07-28");
    }

    private static async Task<JsonElement> RunV2Async(string dir, McpSetup setup, string token, string tool, string args, string mode, string tamper = "")
    {
        using var node = ChildProcess.StartExecutable("node", [Path.Combine(dir, "client-v2.mjs"), setup.McpUri.ToString(), token, tool, args, mode, tamper], dir);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, node.Output);
        var line = node.Output.Split('\n').Last(l => l.StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
