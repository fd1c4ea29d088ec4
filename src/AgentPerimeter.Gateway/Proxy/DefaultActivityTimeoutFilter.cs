using AgentPerimeter.Gateway.Actions;
using Yarp.ReverseProxy.Configuration;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// Gives every cluster that sets no <c>HttpRequest.ActivityTimeout</c> the gateway's default
/// (<c>Gateway:UpstreamActivityTimeout</c>, 10 minutes) instead of YARP's 100 seconds, which cut long
/// non-streaming tool calls (a build, a migration) while the server kept working. A cluster's own
/// value always wins.
/// </summary>
internal sealed class DefaultActivityTimeoutFilter(GatewayLimits limits) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (cluster.HttpRequest?.ActivityTimeout is not null)
            return ValueTask.FromResult(cluster);
        var request = (cluster.HttpRequest ?? new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig()) with { ActivityTimeout = limits.UpstreamActivityTimeout };
        return ValueTask.FromResult(cluster with { HttpRequest = request });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(route);
}
