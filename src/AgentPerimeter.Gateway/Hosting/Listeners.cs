using System.Net;
using Microsoft.AspNetCore.Routing.Matching;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>Which listener a connection arrived on.</summary>
public enum ListenerKind
{
    Agent,
    Admin,
}

/// <summary>Connection feature set by the listener itself, so no Host header can fake it.</summary>
internal sealed class ListenerFeature(ListenerKind kind)
{
    public ListenerKind Kind { get; } = kind;
}

/// <summary>Endpoint metadata: the listener an endpoint is served on (endpoints without it are agent-only).</summary>
public sealed class ListenerMetadata(ListenerKind kind)
{
    public ListenerKind Kind { get; } = kind;
}

/// <summary>The listeners' bound addresses (ports resolved when configured as 0).</summary>
public sealed class PerimeterListeners
{
    internal KestrelListenOptions? AgentListen { get; set; }
    internal KestrelListenOptions? AdminListen { get; set; }

    public Uri AgentUri => ToUri(AgentListen);
    public Uri AdminUri => ToUri(AdminListen);

    private static Uri ToUri(KestrelListenOptions? listen)
    {
        if (listen?.IPEndPoint is not { } ep)
            throw new InvalidOperationException("The gateway has not bound its listeners yet.");
        var host = ep.Address.Equals(IPAddress.Any) ? "127.0.0.1" : ep.Address.Equals(IPAddress.IPv6Any) ? "[::1]" : ep.Address.ToString();
        if (ep.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !host.StartsWith('['))
            host = $"[{host}]";
        return new Uri($"http://{host}:{ep.Port}/");
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
            var kind = candidates[i].Endpoint.Metadata.GetMetadata<ListenerMetadata>()?.Kind ?? ListenerKind.Agent;
            if (kind != listener)
                candidates.SetValidity(i, false);
        }
        return Task.CompletedTask;
    }
}
