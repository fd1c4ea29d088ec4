using AgentPerimeter.Gateway.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace AgentPerimeter.Gateway.Tests.Mcp;

/// <summary>An SDK MCP server behind a gateway whose route "tools-mcp" is inspected.</summary>
public sealed class McpSetup : IAsyncDisposable
{
    private McpSetup(TestMcpServer server, TestGateway gateway)
    {
        Server = server;
        Gateway = gateway;
    }

    public TestMcpServer Server { get; }
    public TestGateway Gateway { get; }
    public Uri McpUri => new(Gateway.AgentUri, "mcp");

    public static async Task<McpSetup> StartAsync(params string[] extraArgs)
    {
        var server = await TestMcpServer.StartAsync();
        var gateway = await TestGateway.StartAsync(server.Url, McpPolicies.Policy, McpPolicies.Routes(server.Url), extraArgs);
        return new McpSetup(server, gateway);
    }

    /// <summary>An official-SDK MCP client connected through the gateway as a new agent session.</summary>
    public async Task<McpClient> ClientAsync(string agent, string workType)
    {
        var token = await Gateway.TokenAsync(agent, workType);
        return await ClientWithTokenAsync(token);
    }

    public Task<McpClient> ClientWithTokenAsync(string token) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = McpUri,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        }));

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Server.DisposeAsync();
    }
}
