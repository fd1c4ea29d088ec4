using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using ModelContextProtocol;

namespace AgentPerimeter.Gateway.FunctionalTests.RateLimiting;

public class McpRateLimitTests
{
    [Fact]
    public async Task PerToolLimit_AppliesOnlyToThatTool_AndAnswersLikeAPolicyDenialWithARetryDelay()
    {
        var server = await TestMcpServer.StartAsync();
        await using var _ = server;
        var policy = McpPolicies.Policy.Replace("""      "exploration": {""", """
                  "exploration": {
                    "RateLimits": { "Limits": [ { "Id": "search-burst", "Route": "tools-mcp", "Tools": [ "search_*" ], "Limit": 1, "Period": "00:00:10" } ] },
            """);
        await using var gw = await TestGateway.StartAsync(server.Url, policy, McpPolicies.Routes(server.Url));
        var token = await gw.TokenAsync("agent", "exploration");
        await using var client = await McpSetup.ConnectAsync(new Uri(gw.AgentUri, "mcp"), token);

        await client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "a" });
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "b" }).AsTask());
        // Other tools and listing are not limited by it.
        await client.CallToolAsync("read_file", new Dictionary<string, object?> { ["path"] = "/workspace/a" });
        await client.CallToolAsync("read_file", new Dictionary<string, object?> { ["path"] = "/workspace/b" });
        await client.ListToolsAsync();

        Assert.Contains("[rate_limited]", ex.Message);
        Assert.Contains("retry in 10 s", ex.Message);
        Assert.Equal(["tools/call:search_docs", "tools/call:read_file", "tools/call:read_file"], server.ToolCalls);
        var record = Assert.Single(gw.AuditRecords(), r => r.GetProperty("decision").GetString() == "rate_limited");
        Assert.Equal("search-burst", record.GetProperty("rule").GetString());
        Assert.Equal("search_docs", record.GetProperty("mcp").GetProperty("target").GetString());
    }
}
