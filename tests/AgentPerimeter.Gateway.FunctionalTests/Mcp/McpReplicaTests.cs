using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Mcp;

/// <summary>With Redis configured, MCP session bindings are shared: a session begun on one replica continues on another, for its owner only.</summary>
public class McpReplicaTests
{
    private static HttpRequestMessage Post(string json, string token, string? mcpSession)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        if (mcpSession is not null)
            request.Headers.Add("Mcp-Session-Id", mcpSession);
        return request;
    }

    [Fact]
    public async Task AnMcpSessionBegunOnOneReplica_ContinuesOnAnother_ForItsOwnerOnly()
    {
        using var redis = await RedisServer.StartAsync();
        await using var server = await TestMcpServer.StartAsync();
        var (a, b) = await RedisReplicas.StartAsync(redis, server.Url, McpPolicies.Policy, routes: McpPolicies.Routes(server.Url));
        await using var _ = a;
        await using var __ = b;
        var token = await a.TokenAsync("agent-1", "build");

        var init = await a.Agent.SendAsync(Post("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"replica-test","version":"1"}}}""", token, null));
        Assert.Equal(HttpStatusCode.OK, init.StatusCode);
        var sid = Assert.Single(init.Headers.GetValues("Mcp-Session-Id"));
        await init.Content.ReadAsStringAsync();

        var initialized = await b.Agent.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", token, sid));
        Assert.True(initialized.IsSuccessStatusCode, $"{initialized.StatusCode}: {await initialized.Content.ReadAsStringAsync()}");
        var list = await b.Agent.SendAsync(Post("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""", token, sid));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("search_docs", await list.Content.ReadAsStringAsync());

        // Another agent session presenting the id on the other replica is refused there too.
        var other = await a.TokenAsync("agent-2", "build");
        var stolen = await b.Agent.SendAsync(Post("""{"jsonrpc":"2.0","id":3,"method":"tools/list"}""", other, sid));
        Assert.Equal(HttpStatusCode.Forbidden, stolen.StatusCode);
        Assert.Contains("mcp_session_not_owned", await stolen.Content.ReadAsStringAsync());
    }
}
