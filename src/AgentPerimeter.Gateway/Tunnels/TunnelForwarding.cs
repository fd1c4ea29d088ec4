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
                metrics.TunnelRequest(name, IUnsentFailure.Find(ex) is not null ? "unavailable" : "failed");
                throw;
            }
        }
    }
}
