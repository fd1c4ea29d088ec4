using System.Net.Http.Json;
using System.Text.Json;
using ModelContextProtocol.Client;

namespace AgentPerimeter.Harness;

/// <summary>The harness's two doors into the gateway: the admin API (session token, approval status) and the MCP routes (tools).</summary>
public sealed class GatewayClient(HarnessOptions options) : IAsyncDisposable
{
    private readonly HttpClient _admin = CreateAdmin(options);
    private readonly List<McpClient> _clients = [];

    /// <summary>The MCP clients, one per route, in the order the routes were given.</summary>
    public IReadOnlyList<McpClient> Clients => _clients;

    private static HttpClient CreateAdmin(HarnessOptions options)
    {
        var http = new HttpClient { BaseAddress = options.Admin, Timeout = TimeSpan.FromSeconds(15) };
        if (!string.IsNullOrEmpty(options.AdminToken))
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.AdminToken);
        return http;
    }

    /// <summary>A session token for the work type; with <paramref name="sessionId"/>, a new token for that session (resume).</summary>
    public async Task<(string Token, string SessionId)> StartSessionAsync(string agent, string workType, string? sessionId, CancellationToken cancellationToken)
    {
        var response = await _admin.PostAsJsonAsync("admin/sessions", new { agent, workType, sessionId }, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HarnessException($"the gateway refused a '{workType}' session for agent '{agent}' ({(int)response.StatusCode}): {body}");
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("token").GetString()!, doc.RootElement.GetProperty("session_id").GetString()!);
    }

    /// <summary>An approval's status: pending, approved, denied, used, expired; null if the gateway does not know it.</summary>
    public async Task<string?> ApprovalStatusAsync(string id, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _admin.GetAsync($"admin/approvals/{Uri.EscapeDataString(id)}", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return "pending"; // the admin API unreachable for a moment: keep waiting
        }
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return null;
        if (!response.IsSuccessStatusCode)
            return "pending";
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return doc.RootElement.GetProperty("status").GetString();
    }

    /// <summary>Connects an MCP client (official SDK) to each MCP route and lists the tools the work type may use.</summary>
    public async Task<Dictionary<string, (McpClient Client, McpClientTool Tool)>> ConnectAsync(string token, CancellationToken cancellationToken)
    {
        var tools = new Dictionary<string, (McpClient, McpClientTool)>(StringComparer.Ordinal);
        foreach (var path in options.McpPaths)
        {
            var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(options.Gateway, path.TrimStart('/')),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }), cancellationToken: cancellationToken).ConfigureAwait(false);
            _clients.Add(client);
            foreach (var tool in await client.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
                tools.TryAdd(tool.Name, (client, tool));
        }
        return tools;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
            await client.DisposeAsync().ConfigureAwait(false);
        _admin.Dispose();
    }
}

public sealed class HarnessException(string message) : Exception(message);
