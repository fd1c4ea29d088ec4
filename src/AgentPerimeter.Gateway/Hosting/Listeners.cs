using System.Net;
using Microsoft.AspNetCore.Routing.Matching;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>Which listener a connection arrived on.</summary>
public enum ListenerKind
{
    Agent,
    Admin,
    /// <summary>Connectors dialing out to serve reverse tunnels.</summary>
    Tunnel,
    /// <summary>Inbound tunnel termination: mutual TLS, routed by host name, otherwise the agent pipeline.</summary>
    Inbound,
}

/// <summary>Connection feature set by the listener itself, so no Host header can fake it.</summary>
internal sealed class ListenerFeature(ListenerKind kind)
{
    public ListenerKind Kind { get; } = kind;
}

/// <summary>Endpoint metadata: the listeners an endpoint is served on (endpoints without it are proxied routes).</summary>
public sealed class ListenerMetadata(params ListenerKind[] kinds)
{
    public IReadOnlyList<ListenerKind> Kinds { get; } = kinds;

    public bool Allows(ListenerKind kind) => Array.IndexOf((ListenerKind[])Kinds, kind) >= 0;
}

/// <summary>The listeners' bound addresses (ports resolved when configured as 0).</summary>
public sealed class PerimeterListeners
{
    internal KestrelListenOptions? AgentListen { get; set; }
    internal KestrelListenOptions? AdminListen { get; set; }
    internal KestrelListenOptions? TunnelListen { get; set; }
    internal KestrelListenOptions? InboundListen { get; set; }
    internal HashSet<KestrelListenOptions> TlsListeners { get; } = [];

    public Uri AgentUri => ToUri(AgentListen);
    public Uri AdminUri => ToUri(AdminListen);
    public Uri? TunnelUri => TunnelListen is null ? null : ToUri(TunnelListen);
    public Uri? InboundUri => InboundListen is null ? null : ToUri(InboundListen);

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

public static class ListenerHttpContextExtensions
{
    public static ListenerKind GetListener(this HttpContext context) =>
        context.Features.Get<ListenerFeature>()?.Kind ?? ListenerKind.Agent;
}

/// <summary>
/// Routing policy: an endpoint is a candidate only on its own listener. Admin endpoints do not exist
/// for agents, and proxied routes do not exist on the admin listener, whatever the path or Host.
/// </summary>
internal sealed class ListenerMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var listener = httpContext.GetListener();
        for (int i = 0; i < candidates.Count; i++)
        {
            var endpoint = candidates[i].Endpoint;
            var kinds = endpoint.Metadata.GetMetadata<ListenerMetadata>();
            bool valid = kinds is not null
                ? kinds.Allows(listener)
                // Proxied routes: every route on the agent listener; on the inbound listener only the
                // routes that name this very host (Match.Hosts, no wildcard), so no other route — nor a
                // route shared by every server through a wildcard — is reachable through it.
                : listener == ListenerKind.Agent
                  || (listener == ListenerKind.Inbound && endpoint.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>()?.Config.Match.Hosts is { Count: > 0 } hosts
                      && hosts.Any(h => string.Equals(h, httpContext.Request.Host.Host, StringComparison.OrdinalIgnoreCase)));
            if (!valid)
                candidates.SetValidity(i, false);
        }
        return Task.CompletedTask;
    }
}
