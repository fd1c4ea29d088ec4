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
    }

    private static async Task<JsonElement> RunAsync(string dir, McpSetup setup, string token, string tool, string args)
    {
        using var node = ChildProcess.StartExecutable("node", [Path.Combine(dir, "client.mjs"), setup.McpUri.ToString(), token, tool, args], dir);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, node.Output);
        var line = node.Output.Split('\n').Last(l => l.StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
