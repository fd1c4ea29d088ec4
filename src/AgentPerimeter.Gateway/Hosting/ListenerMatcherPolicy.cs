using AgentPerimeter.Gateway.Actions;
using Microsoft.AspNetCore.Routing.Matching;

namespace AgentPerimeter.Gateway.Hosting;

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
