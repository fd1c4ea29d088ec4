using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// Proxy stage after load balancing: when the chosen destination is a tunnel, the action records it,
/// and a tunnel with no connector is refused here (503, audited) rather than failing in the forwarder.
/// </summary>
internal sealed class TunnelStage(RequestDelegate next, TunnelRegistry registry, PerimeterMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var destinations = context.GetReverseProxyFeature().AvailableDestinations;
        if (destinations.Count == 0 || TunnelCatalog.TunnelOf(destinations[0].Model.Config.Address) is not { } tunnel)
            return next(context);

        var action = context.GetAction();
        action.Tunnel = tunnel;
        var pool = registry.Pool(tunnel);
        if (pool is not null && pool.LiveConnections > 0)
            return next(context);
        metrics.TunnelRequest(pool is null ? "unknown" : tunnel, "unavailable");
        return ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable,
            new ActionOutcome(OutcomeClass.UpstreamFailed, RefusalCodes.TunnelUnavailable, RetryAfter: TimeSpan.FromSeconds(1)) { NothingSent = true },
            pool is null
                ? $"Route '{action.RouteId}' names tunnel '{tunnel}', which this gateway does not declare."
                : $"Route '{action.RouteId}' is served through tunnel '{tunnel}', and no connector is connected to it right now.");
    }
}
