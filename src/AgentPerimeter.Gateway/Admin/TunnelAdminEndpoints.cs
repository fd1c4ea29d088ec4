namespace AgentPerimeter.Gateway.Admin;

/// <summary>Declared tunnels and their live connector connections.</summary>
internal static class TunnelAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/admin/tunnels", (Tunnels.TunnelRegistry tunnels) => Results.Json(tunnels.Pools.OrderBy(p => p.Name).Select(p => new
        {
            tunnel = p.Name,
            description = tunnels.Definition(p.Name)?.Description,
            credential = tunnels.Definition(p.Name) is { } d ? new { kind = d.Provider.Kind, location = d.Location } : null,
            connections = p.LiveConnections,
            connectors = p.Connectors.OrderBy(c => c.Key).Select(c => new { id = c.Key, connections = c.Value }),
        })));
    }
}
