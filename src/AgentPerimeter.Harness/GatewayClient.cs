using System.Net.Http.Json;
using System.Text.Json;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Messages;
using ModelContextProtocol.Client;

namespace AgentPerimeter.Harness;

/// <summary>The harness's two doors into the gateway: the admin API (session token, approval status) and the MCP routes (tools).</summary>
public sealed class GatewayClient(HarnessOptions options, TimeProvider? time = null) : IAsyncDisposable
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly HttpClient _admin = CreateAdmin(options);
    private readonly HttpClient _agent = new() { Timeout = TimeSpan.FromSeconds(15) };
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

    private string? _token;

    /// <summary>The agent, work type and session a session token names (read, not verified: the gateway verifies it).</summary>
    public static (string Agent, string WorkType, string SessionId) DescribeToken(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
            throw new HarnessException("the session token is not a JWT.");
        var payload = parts[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
        using var doc = JsonDocument.Parse(Convert.FromBase64String(payload));
        var root = doc.RootElement;
        string Claim(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new HarnessException($"the session token has no '{name}' claim.");
        return (Claim("sub"), Claim("work_type"), Claim("sid"));
    }

    /// <summary>A session token for the work type; with <paramref name="sessionId"/>, a new token for that session (resume).</summary>
    public async Task<(string Token, string SessionId)> StartSessionAsync(string agent, string workType, string? sessionId, CancellationToken cancellationToken)
    {
        if (options.SessionToken is { } given)
        {
            var (_, tokenWorkType, tokenSession) = DescribeToken(given);
            if (sessionId is not null && sessionId != tokenSession)
                throw new HarnessException($"the session token is for session '{tokenSession}', not '{sessionId}'.");
            if (tokenWorkType != workType)
                throw new HarnessException($"the session token is for work type '{tokenWorkType}', not '{workType}'.");
            _token = given;
            return (given, tokenSession);
        }
        var response = await _admin.PostAsJsonAsync(PerimeterPaths.AdminSessions, new SessionTokenRequest(agent, workType, SessionId: sessionId),
            ProtocolJsonContext.Default.SessionTokenRequest, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HarnessException($"the gateway refused a '{workType}' session for agent '{agent}' ({(int)response.StatusCode}): {body}");
        var session = JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.SessionTokenResponse)!;
        _token = session.Token;
        return (_token, session.SessionId);
    }

    /// <summary>An approval's status: pending, approved, denied, used, expired; null if the gateway does not know it.</summary>
    public async Task<string?> ApprovalStatusAsync(string id, CancellationToken cancellationToken)
    {
        // Asked on the agent listener with the session's own token: no operator credentials needed.
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.Gateway, PerimeterPaths.AgentApproval(id)));
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _token);
            response = await _agent.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return ApprovalStates.Pending; // the gateway unreachable for a moment: keep waiting
        }
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return null;
        if (!response.IsSuccessStatusCode)
            return ApprovalStates.Pending;
        var approval = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ApprovalStatusResponse, cancellationToken).ConfigureAwait(false);
        return approval!.Status;
    }

    /// <summary>Reports a call the harness ran itself to the gateway (counted there as an ungoverned action).</summary>
    public async Task<string?> ReportExternalAsync(string tool, string argumentsHash, string outcome, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Gateway, PerimeterPaths.ExternalActions))
                {
                    Content = JsonContent.Create(new ExternalActionReport(tool, argumentsHash, outcome), ProtocolJsonContext.Default.ExternalActionReport),
                };
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _token);
                var response = await _agent.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    var receipt = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ExternalActionReceipt, cancellationToken).ConfigureAwait(false);
                    return receipt!.Recorded;
                }
                if (attempt >= 3)
                    return null;
            }
            catch (HttpRequestException) when (attempt < 3)
            {
            }
            catch (HttpRequestException)
            {
                return null;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300 * attempt), _time, cancellationToken).ConfigureAwait(false);
        }
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
        _agent.Dispose();
    }
}
