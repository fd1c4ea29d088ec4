using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// The DNS-rebinding defence the gateway takes away from upstream servers by rewriting <c>Host</c>: a
/// request from a browser page (it carries <c>Origin</c>) is refused unless that origin is listed in
/// <c>Gateway:AllowedOrigins</c>, and when <c>Gateway:AllowedHosts</c> is set, a request for any other host
/// name is refused. Agents that are not browsers send no <c>Origin</c> and are not affected.
/// </summary>
internal sealed class OriginGuardMiddleware(RequestDelegate next, OriginGuardOptions options)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (options.AllowedHosts.Count > 0 && !options.AllowedHosts.Contains(context.Request.Host.Host))
            return ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden, new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.HostNotAllowed, null,
                "This perimeter does not serve that host name (Gateway:AllowedHosts)."));
        var origin = context.Request.Headers.Origin;
        if (origin.Count > 0 && !(origin.Count == 1 && options.AllowedOrigins.Contains(origin[0]!)))
            return ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden, new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.OriginNotAllowed, null,
                "Requests from a web page of this origin are not accepted (Gateway:AllowedOrigins)."));
        return next(context);
    }
}
