using System.Net;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>The listeners' bound addresses (ports resolved when configured as 0).</summary>
public sealed class PerimeterListeners
{
    internal KestrelListenOptions? AgentListen { get; set; }
    internal KestrelListenOptions? AdminListen { get; set; }
    internal KestrelListenOptions? TunnelListen { get; set; }
    internal KestrelListenOptions? InboundListen { get; set; }
    internal KestrelListenOptions? EgressListen { get; set; }

    /// <summary>The egress proxy's Unix socket, when configured.</summary>
    public string? EgressSocket { get; internal set; }
    internal HashSet<KestrelListenOptions> TlsListeners { get; } = [];

    public Uri AgentUri => ToUri(AgentListen);
    public Uri AdminUri => ToUri(AdminListen);
    public Uri? TunnelUri => TunnelListen is null ? null : ToUri(TunnelListen);
    public Uri? InboundUri => InboundListen is null ? null : ToUri(InboundListen);
    public Uri? EgressUri => EgressListen is null ? null : ToUri(EgressListen);

    private Uri ToUri(KestrelListenOptions? listen)
    {
        if (listen?.IPEndPoint is not { } ep)
            throw new InvalidOperationException("The gateway has not bound its listeners yet.");
        var host = ep.Address.Equals(IPAddress.Any) ? "127.0.0.1" : ep.Address.Equals(IPAddress.IPv6Any) ? "[::1]" : ep.Address.ToString();
        if (ep.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !host.StartsWith('['))
            host = $"[{host}]";
        var scheme = TlsListeners.Contains(listen) ? "https" : "http";
        return new Uri($"{scheme}://{host}:{ep.Port}/");
    }
}
