using System.Text.Json;
using AgentPerimeter.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Gateway.FunctionalTests.Mcp;

/// <summary>Official MCP C# SDK on both sides of the gateway, over Streamable HTTP.</summary>
public class McpEnforcementTests
{
    [Theory]
    [InlineData("exploration", new[] { "read_file", "search_docs", "slow_job" })]
    [InlineData("production", new[] { "deploy", "search_docs" })]
    [InlineData("build", new[] { "deploy", "read_file", "search_docs", "slow_job" })]
    public async Task ToolsList_ShowsOnlyTheToolsTheWorkTypeMayCall(string workType, string[] expected)
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", workType);

        var tools = await client.ListToolsAsync();

        Assert.Equal(expected, tools.Select(t => t.Name).Order());
        Assert.Contains("tools/list", setup.Server.Received);
    }

    [Fact]
    public async Task AllowedCall_ReturnsTheServersResult_AndIsAuditedAsMcp()
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", "exploration");

        var result = await client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "deploy" });

        Assert.Equal("search_docs ran with text=deploy path= env=", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(["tools/call:search_docs"], setup.Server.ToolCalls);
        var record = Assert.Single(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.GetProperty("method").GetString() == "tools/call");
        Assert.Equal("mcp", record.GetProperty("kind").GetString());
        Assert.Equal("allow", record.GetProperty("decision").GetString());
        Assert.Equal("explore-search", record.GetProperty("rule").GetString());
        Assert.Equal("search_docs", record.GetProperty("mcp").GetProperty("target").GetString());
        Assert.Equal("{\"text\":\"deploy\"}", record.GetProperty("mcp").GetProperty("arguments").GetString());
        Assert.True(record.GetProperty("governed").GetBoolean());
        var metrics = await setup.Gateway.MetricsAsync();
        Assert.Contains("agentperimeter_mcp_actions_total{work_type=\"exploration\",route=\"tools-mcp\",mcp_method=\"tools/call\",tool=\"search_docs\",decision=\"allow\"} 1", metrics);
    }

    [Fact]
    public async Task ToolsCall_NotInAllowlist_IsRefusedByTheGateway_ServerSeesNothing()
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", "exploration");

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "production" }).AsTask());

        Assert.Contains("[policy_denied]", ex.Message);
        Assert.Contains("may not use tool 'deploy'", ex.Message);
        Assert.Empty(setup.Server.ToolCalls);
        var record = Assert.Single(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.GetProperty("target").GetString() == "deploy");
        Assert.Equal("deny", record.GetProperty("decision").GetString());
        Assert.Equal("policy_denied", record.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("exploration", "read_file", "path", "/etc/passwd", "argument 'path' must match '/workspace/**'")]
    [InlineData("exploration", "read_file", "text", "no path at all", "argument 'path' is required by policy")]
    [InlineData("exploration", "read_file", "path", "/workspace/../etc/shadow", "argument 'path' must be a plain path")]
    [InlineData("exploration", "read_file", "path", "/workspace/%2e%2e/etc/shadow", "argument 'path' must be a plain path")]
    [InlineData("production", "deploy", "env", "production", "argument 'env' must be one of: staging")]
    public async Task ToolsCall_ArgumentOutsideItsConstraint_IsRefused(string workType, string tool, string arg, string value, string expected)
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", workType);

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync(tool, new Dictionary<string, object?> { [arg] = value }).AsTask());

        Assert.Contains("[argument_not_allowed]", ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Empty(setup.Server.ToolCalls);
    }

    [Fact]
    public async Task ToolsCall_ArgumentInsideItsConstraint_IsForwarded()
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", "production");

        var result = await client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "staging" });

        Assert.Contains("env=staging", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(["tools/call:deploy"], setup.Server.ToolCalls);
    }

    [Fact]
    public async Task DeniedCall_CarriesAMachineReadableReason()
    {
        await using var setup = await McpSetup.StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        // The raw wire answer, as any client sees it (a stateless probe: no session needed to be refused).
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"name":"deploy","arguments":{"env":"production"}}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        var response = await setup.Gateway.Agent.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        Assert.Equal("call-7", root.GetProperty("id").GetString());
        var error = root.GetProperty("error");
        Assert.Equal(-32001, error.GetProperty("code").GetInt32());
        Assert.StartsWith("[policy_denied] ", error.GetProperty("message").GetString());
        var data = error.GetProperty("data");
        Assert.Equal("policy_denied", data.GetProperty("error").GetString());
        Assert.Equal("deny", data.GetProperty("decision").GetString());
        Assert.Equal("exploration", data.GetProperty("work_type").GetString());
        Assert.Equal("tools-mcp", data.GetProperty("route").GetString());
        Assert.Equal(Assert.Single(response.Headers.GetValues("X-Perimeter-Action-Id")), data.GetProperty("action_id").GetString());
        Assert.Empty(setup.Server.Received);
    }
}

public class McpResourcesAndPromptsTests
{
    [Fact]
    public async Task ResourcesAndPrompts_AreFilteredAndEnforced_ByUriAndName()
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", "exploration");

        var resources = await client.ListResourcesAsync();
        var prompts = await client.ListPromptsAsync();
        var readme = await client.ReadResourceAsync("docs://public/readme");
        var secret = await Assert.ThrowsAsync<McpProtocolException>(() => client.ReadResourceAsync("docs://private/salaries").AsTask());
        var traversal = await Assert.ThrowsAsync<McpProtocolException>(() => client.ReadResourceAsync("docs://public/../private/salaries").AsTask());
        Assert.Contains("[resource_not_canonical]", traversal.Message);
        var bad = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync("exfiltrate").AsTask());
        var good = await client.GetPromptAsync("summarize");

        Assert.Equal(["docs://public/readme"], resources.Select(r => r.Uri));
        Assert.Equal(["summarize"], prompts.Select(p => p.Name));
        Assert.Contains("contents of docs://public/readme", Assert.IsType<TextResourceContents>(Assert.Single(readme.Contents)).Text);
        Assert.Contains("[policy_denied]", secret.Message);
        Assert.Contains("[policy_denied]", bad.Message);
        Assert.Single(good.Messages);
        Assert.Equal(1, setup.Server.Received.Count(r => r == "resources/read"));
        Assert.Equal(1, setup.Server.Received.Count(r => r == "prompts/get"));
    }
}
