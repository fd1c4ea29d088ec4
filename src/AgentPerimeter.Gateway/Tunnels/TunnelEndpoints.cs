using AgentPerimeter.Protocol.Refusals;
using System.Net.WebSockets;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// The tunnel listener's one endpoint: <c>GET /tunnels/{name}</c> with a WebSocket upgrade and
/// <c>Authorization: Bearer &lt;connector credential&gt;</c>. Each accepted WebSocket becomes one
/// idle connection of the tunnel's pool; the request lasts as long as the connection.
/// </summary>
internal static partial class TunnelEndpoints
{
    public const string ConnectorHeader = AgentPerimeter.Protocol.Tunnels.TunnelHandshake.ConnectorHeader;
    public const string ErrorHeader = AgentPerimeter.Protocol.PerimeterHeaders.Error;

    public static void MapTunnelEndpoints(this WebApplication app)
    {
        app.MapGet(AgentPerimeter.Protocol.Tunnels.TunnelHandshake.RoutePattern, AcceptAsync).WithMetadata(new ListenerMetadata(ListenerKind.Tunnel));
    }

    private static async Task AcceptAsync(HttpContext context, string name, TunnelRegistry registry)
    {
        var connector = ConnectorId(context.Request.Headers[ConnectorHeader].ToString());
        var remote = context.Connection.RemoteIpAddress?.ToString();
        var pool = registry.Pool(name);
        if (pool is null)
        {
            await RefuseAsync(context, registry, StatusCodes.Status404NotFound, name, connector, remote, RefusalCodes.UnknownTunnel,
                $"This gateway serves no tunnel named '{ActionResponses.Printable(name, 64)}'.");
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        var check = presented.Length == 0 ? CredentialCheck.Invalid : registry.Check(name, presented);
        switch (check)
        {
            case CredentialCheck.Invalid:
                await RefuseAsync(context, registry, StatusCodes.Status401Unauthorized, name, connector, remote,
                    presented.Length == 0 ? RefusalCodes.MissingCredential : RefusalCodes.BadCredential,
                    $"The connector credential for tunnel '{name}' is missing or wrong.");
                return;
            case CredentialCheck.OtherTunnel:
                await RefuseAsync(context, registry, StatusCodes.Status403Forbidden, name, connector, remote, RefusalCodes.NotEntitled,
                    $"This connector credential belongs to another tunnel; it may not serve '{name}'.");
                return;
            case CredentialCheck.Unreadable:
                await RefuseAsync(context, registry, StatusCodes.Status503ServiceUnavailable, name, connector, remote, RefusalCodes.CredentialUnavailable,
                    $"The gateway cannot read the credential of tunnel '{name}' from its secret source right now.");
                return;
        }

        if (pool.LiveConnections >= registry.MaxConnectionsPerTunnel)
        {
            context.Response.Headers.RetryAfter = "5";
            await RefuseAsync(context, registry, StatusCodes.Status429TooManyRequests, name, connector, remote, RefusalCodes.TooManyConnections,
                $"Tunnel '{name}' already holds {pool.LiveConnections} connections, its limit.");
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, registry, StatusCodes.Status400BadRequest, name, connector, remote, RefusalCodes.WebSocketRequired,
                "A connector opens each tunnel connection as a WebSocket upgrade.");
            return;
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            // Keeps NAT and load-balancer mappings alive and detects a connector that vanished silently.
            KeepAliveInterval = TimeSpan.FromSeconds(15),
            KeepAliveTimeout = TimeSpan.FromSeconds(30),
        });
        var connection = new TunnelConnection(socket, pool, connector);
        if (pool.Add(connection))
            await registry.RecordAsync("connected", name, connector, remote, code: null, reason: null);
        // Closed once the gateway's drain is over (not at SIGTERM): during the drain, tunneled routes still work.
        var stopping = context.RequestServices.GetRequiredService<IShutdownSignal>().Drained;
        using (context.RequestAborted.Register(static c => ((TunnelConnection)c!).Shutdown(), connection))
        using (stopping.Register(static c => ((TunnelConnection)c!).Shutdown(), connection))
            await connection.Completion;
    }

    private static async Task RefuseAsync(HttpContext context, TunnelRegistry registry, int status, string tunnel, string connector,
        string? remote, string code, string message)
    {
        // Durable before the connector hears no: a refused connector is as much on record as an agent.
        await registry.RecordRefusalAsync(ActionResponses.Printable(tunnel, 64), connector, remote, code, message);
        context.Response.StatusCode = status;
        context.Response.Headers[ErrorHeader] = code;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(new { error = code, message });
    }

    /// <summary>The connector's self-chosen instance id, reduced to a safe, short label.</summary>
    private static string ConnectorId(string raw)
    {
        if (raw.Length == 0)
            return "unnamed";
        var chars = raw.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':').Take(64).ToArray();
        return chars.Length == 0 ? "unnamed" : new string(chars);
    }

}
