using System.Net;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AgentPerimeter.Gateway.FunctionalTests.Secrets;

/// <summary>Injection into a third-party HTTP API (WireMock) and into a private MCP server (official SDK).</summary>
public class SecretUpstreamTests
{
    [Fact]
    public async Task ThirdPartyApi_ReceivesTheInjectedKey_AgentsTokenNever()
    {
        using var api = WireMockServer.Start();
        api.Given(Request.Create().WithPath("/v1/issues").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("""{"issues":[]}"""));
        var key = TestSecrets.New("thirdparty");
        var variable = $"PERIMETER_TEST_TP_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, key);
        var routes = $$"""
            { "ReverseProxy": {
                "Routes": { "tracker": { "ClusterId": "t", "Match": { "Path": "/v1/{**rest}" } } },
                "Clusters": { "t": { "Destinations": { "d": { "Address": "{{api.Url}}/" } } } } } }
            """;
        var policy = $$"""
            { "Perimeter": {
                "Secrets": { "tracker-token": { "Source": { "Kind": "env", "Name": "{{variable}}" },
                                                "Bindings": [ { "Route": "tracker", "Inject": "header", "Name": "Authorization", "Format": "token {secret}" } ] } },
                "WorkTypes": { "build": { "Secrets": [ "tracker-token" ],
                  "Rules": [ { "Id": "read-issues", "Route": "tracker", "Methods": [ "GET" ], "Paths": [ "/v1/issues" ] } ] } } } }
            """;
        await using var gw = await TestGateway.StartAsync(api.Url!, policy, routes);
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.GetAsync("/v1/issues", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entry = Assert.Single(api.LogEntries);
        Assert.Equal($"token {key}", entry.RequestMessage!.Headers!["Authorization"].Single());
        Assert.DoesNotContain(api.LogEntries, e => e.RequestMessage!.Headers!["Authorization"].Any(v => v.Contains(token)));
        Assert.Equal(["tracker-token"], gw.AuditFor(response).GetProperty("secrets").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task PrivateMcpServer_ReceivesTheGatewaysBearer_NotTheAgentsToken()
    {
        var server = await TestMcpServer.StartAsync();
        await using var _ = server;
        var mcpToken = TestSecrets.New("mcp");
        var dir = Directory.CreateTempSubdirectory("perimeter-mcp-secret-").FullName;
        var file = Path.Combine(dir, "mcp-token");
        File.WriteAllText(file, mcpToken);
        var policy = McpPolicies.Policy.Replace("""  "Perimeter": {""", $$"""
              "Perimeter": {
                "Secrets": { "mcp-token": { "Source": { "Kind": "file", "Path": "{{file}}" }, "Bindings": [ { "Route": "tools-mcp", "Inject": "bearer", "WhenNotEntitled": "refuse" } ] } },
            """).Replace("""      "build": {""", """      "build": { "Secrets": [ "mcp-token" ],""");
        await using var gw = await TestGateway.StartAsync(server.Url, policy, McpPolicies.Routes(server.Url));
        var agentToken = await gw.TokenAsync("agent", "build");
        await using var client = await McpSetup.ConnectAsync(new Uri(gw.AgentUri, "mcp"), agentToken);

        await client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "x" });

        Assert.NotEmpty(server.Authorizations);
        Assert.All(server.Authorizations, a => Assert.Equal($"Bearer {mcpToken}", a));
        // A work type not entitled to the server's credential is refused before the server sees anything.
        var explorer = await gw.TokenAsync("explorer", "exploration");
        var before = server.Received.Count;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", explorer);
        var refused = await gw.Agent.SendAsync(request);
        // An MCP request is refused in JSON-RPC (so MCP clients read the reason), whichever stage refuses it.
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var error = System.Text.Json.JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(-32001, error.GetProperty("code").GetInt32());
        Assert.Equal("secret_not_entitled", error.GetProperty("data").GetProperty("error").GetString());
        Assert.Equal(before, server.Received.Count);
    }
}
