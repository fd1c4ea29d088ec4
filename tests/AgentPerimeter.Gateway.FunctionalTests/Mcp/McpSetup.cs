using AgentPerimeter.Testing;
using ModelContextProtocol.Client;

namespace AgentPerimeter.Gateway.FunctionalTests.Mcp;

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

    public static Task<McpSetup> StartAsync(params string[] extraArgs) => StartAsync(serveModernClients: false, extraArgs);

    /// <summary>As <see cref="StartAsync(string[])"/>, with a server that also speaks MCP 2026-07-28 (stateless for those clients).</summary>
    public static Task<McpSetup> StartForModernClientsAsync() => StartAsync(serveModernClients: true, []);

    private static async Task<McpSetup> StartAsync(bool serveModernClients, string[] extraArgs)
    {
        var server = await TestMcpServer.StartAsync(serveModernClients);
        var gateway = await TestGateway.StartAsync(server.Url, McpPolicies.Policy, McpPolicies.Routes(server.Url), extraArgs);
        return new McpSetup(server, gateway);
    }

    /// <summary>An official-SDK MCP client connected through the gateway as a new agent session.</summary>
    public async Task<McpClient> ClientAsync(string agent, string workType)
    {
        var token = await Gateway.TokenAsync(agent, workType);
        return await ClientWithTokenAsync(token);
    }

    public Task<McpClient> ClientWithTokenAsync(string token) => ConnectAsync(McpUri, token);

    /// <summary>An official-SDK MCP client for any gateway's MCP endpoint, as an agent holding <paramref name="token"/>.</summary>
    public static Task<McpClient> ConnectAsync(Uri mcpUri, string token, bool standaloneGetStream = false) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = mcpUri,
            TransportMode = HttpTransportMode.StreamableHttp,
            EnableStandaloneGetStream = standaloneGetStream,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        }));

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Server.DisposeAsync();
    }
}
