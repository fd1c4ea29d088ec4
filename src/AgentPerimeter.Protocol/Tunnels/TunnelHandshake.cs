namespace AgentPerimeter.Protocol.Tunnels;

/// <summary>
/// How a connector opens a tunnel connection: a WebSocket upgrade of <c>GET /tunnels/{name}</c> on the
/// gateway's tunnel listener with <c>Authorization: Bearer &lt;connector credential&gt;</c> and
/// <see cref="ConnectorHeader"/>. A refusal answers 401, 403, 404, 429, 503 or 400 with the code in
/// <see cref="PerimeterHeaders.Error"/> and a <see cref="Refusals.PerimeterRefusal"/> body. Once accepted,
/// the WebSocket carries one HTTP/1.1 connection from the gateway (client) to the connector (server) as
/// a byte stream (<see cref="WebSocketByteStream"/>); the connector never speaks first.
/// </summary>
public static class TunnelHandshake
{
    /// <summary>The route of the tunnel listener's one endpoint.</summary>
    public const string RoutePattern = "/tunnels/{name}";

    /// <summary>The connector's self-chosen instance id (shown in <c>perimeter tunnels</c> and the audit log).</summary>
    public const string ConnectorHeader = "X-Perimeter-Connector";

    /// <summary>The scheme of the connector's credential in the <c>Authorization</c> header.</summary>
    public const string AuthorizationScheme = "Bearer";

    /// <summary>WebSocket keep-alive (both ends): keeps NAT and load-balancer mappings alive.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>WebSocket keep-alive timeout (both ends): a peer that vanished silently is detected.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The WebSocket address of <paramref name="tunnel"/> on a gateway's tunnel listener: <c>ws</c> for
    /// <c>http</c>, <c>wss</c> for <c>https</c>, any base path kept.
    /// </summary>
    public static Uri ConnectUri(Uri gateway, string tunnel)
    {
        var builder = new UriBuilder(gateway)
        {
            Scheme = gateway.Scheme is "https" or "wss" ? "wss" : "ws",
        };
        builder.Path = builder.Path.TrimEnd('/') + "/tunnels/" + Uri.EscapeDataString(tunnel);
        return builder.Uri;
    }
}
