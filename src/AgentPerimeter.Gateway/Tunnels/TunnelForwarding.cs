using System.Net.Sockets;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// YARP's HTTP client factory with tunnels: a request for <c>tunnel://NAME/path</c> is sent as
/// <c>http://NAME.tunnel.invalid/path</c>, so the handler keeps one connection pool per tunnel, and the
/// handler's connect step claims one of the tunnel's connections instead of opening a socket.
/// Every other destination connects as usual.
/// </summary>
internal sealed class TunnelForwarderHttpClientFactory(TunnelRegistry registry, PerimeterMetrics metrics, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectCallback = ConnectAsync;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new TunnelAddressHandler(base.WrapHandler(context, handler), registry, metrics);

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        if (host.EndsWith(TunnelRegistry.HostSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var name = host[..^TunnelRegistry.HostSuffix.Length];
            var pool = registry.Pool(name) ?? throw new TunnelUnavailableException(name, $"Tunnel '{name}' is not declared in Gateway:Tunnels.");
            return await pool.ClaimAsync(registry.ClaimTimeout, cancellationToken).ConfigureAwait(false);
        }
        // What SocketsHttpHandler does without a callback.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Rewrites tunnel addresses and counts tunnel requests by result.</summary>
    private sealed class TunnelAddressHandler(HttpMessageHandler inner, TunnelRegistry registry, PerimeterMetrics metrics) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            if (!string.Equals(uri.Scheme, TunnelCatalog.Scheme, StringComparison.OrdinalIgnoreCase))
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);

            var name = uri.Host.ToLowerInvariant();
            var pool = registry.Pool(name);
            if (pool is null || pool.LiveConnections == 0)
            {
                metrics.TunnelRequest(pool is null ? "unknown" : name, "unavailable");
                throw new TunnelUnavailableException(name, pool is null
                    ? $"Tunnel '{name}' is not declared in Gateway:Tunnels."
                    : $"Tunnel '{name}' has no connected connector.");
            }
            request.RequestUri = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttp, Host = name + TunnelRegistry.HostSuffix, Port = 80 }.Uri;
            try
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                metrics.TunnelRequest(name, "forwarded");
                return response;
            }
            catch (Exception ex)
            {
                metrics.TunnelRequest(name, FindUnavailable(ex) is not null ? "unavailable" : "failed");
                throw;
            }
        }
    }

    internal static TunnelUnavailableException? FindUnavailable(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is TunnelUnavailableException tunnel)
                return tunnel;
        }
        return null;
    }
}

/// <summary>
/// Proxy stage after load balancing: when the chosen destination is a tunnel, the action records it,
/// and a tunnel with no connector is refused here (503, audited) rather than failing in the forwarder.
/// </summary>
internal static class TunnelStage
{
    public static Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var destinations = context.GetReverseProxyFeature().AvailableDestinations;
        if (destinations.Count == 0 || TunnelCatalog.TunnelOf(destinations[0].Model.Config.Address) is not { } tunnel)
            return next();

        var action = context.GetAction();
        action.Tunnel = tunnel;
        var pool = context.RequestServices.GetRequiredService<TunnelRegistry>().Pool(tunnel);
        if (pool is not null && pool.LiveConnections > 0)
            return next();
        context.RequestServices.GetRequiredService<PerimeterMetrics>().TunnelRequest(pool is null ? "unknown" : tunnel, "unavailable");
        action.RetryAfter = TimeSpan.FromSeconds(1);
        return ActionResponses.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, action.Decision with { Code = "tunnel_unavailable" },
            pool is null
                ? $"Route '{action.RouteId}' names tunnel '{tunnel}', which this gateway does not declare."
                : $"Route '{action.RouteId}' is served through tunnel '{tunnel}', and no connector is connected to it right now.");
    }
}
