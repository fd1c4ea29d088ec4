using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>
/// Identify stage: every agent request must carry a valid session token naming a configured work
/// type. Failures are answered here (401/403) and audited; nothing unidentified goes further.
/// </summary>
internal sealed class IdentityMiddleware(RequestDelegate next, IdentityResolver resolver, IRevocationStore revocations, ProtectedResourceInfo resourceInfo)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        var result = await resolver.ResolveAsync(context).ConfigureAwait(false);
        if (result.Identity is not { } identity)
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status401Unauthorized,
                new PolicyDecision(DecisionOutcome.Unauthenticated, result.Error!, null, result.Message)).ConfigureAwait(false);
            return;
        }

        action.AgentId = identity.AgentId;
        action.SessionId = identity.SessionId;
        action.WorkType = identity.WorkType;
        action.Issuer = identity.Issuer;

        // A token bound to a resource (RFC 8707) is good for that resource only.
        // With a public URL configured, audiences were checked against it already; without, the host must match.
        if (!identity.Covers(resourceInfo.PublicUrl is null ? context.Request.Host.Host : null, context.Request.Path.Value ?? "/"))
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status401Unauthorized,
                new PolicyDecision(DecisionOutcome.Unauthenticated, RefusalCodes.InvalidAudience, null,
                    $"This token was issued for the resource {identity.Resource}; get a token for this one.")).ConfigureAwait(false);
            return;
        }

        // The kill switch: a revoked session (or agent) is refused however valid its token still is.
        if (revocations.IsRevoked(identity.SessionId, identity.AgentId))
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status401Unauthorized,
                new PolicyDecision(DecisionOutcome.Unauthenticated, RefusalCodes.SessionRevoked, null,
                    "This session has been revoked by the perimeter's operator.")).ConfigureAwait(false);
            return;
        }

        if (!context.GetPolicy().WorkTypes.ContainsKey(identity.WorkType))
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden,
                new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.UnknownWorkType, null,
                    $"Work type '{identity.WorkType}' is not configured on this perimeter.")).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }
}
