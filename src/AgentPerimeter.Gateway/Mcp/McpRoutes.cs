using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>Which routes carry MCP: route metadata <c>"Perimeter.Mcp": "true"</c>.</summary>
public static class McpRoutes
{
    public const string MetadataKey = "Perimeter.Mcp";

    public static bool IsMcpRoute(RouteModel route) =>
        route.Config.Metadata is { } m && m.TryGetValue(MetadataKey, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);
}
