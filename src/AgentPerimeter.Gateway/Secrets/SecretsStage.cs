using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Secrets stage of the proxy pipeline, the last deciding stage: works out which of the route's bindings
/// the caller's work type is entitled to, refuses where a binding says so, and leaves the values for
/// <see cref="SecretInjectionTransform"/>, the YARP request transform that strips the agent's
/// credentials and adds the gateway's.
/// </summary>
internal sealed class SecretsStage(RequestDelegate next, SecretScrubber scrubber)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        var catalog = context.GetPolicy().Section<SecretCatalog>();
        if (catalog.BindingsByRoute.TryGetValue(action.RouteId!, out var bindings))
        {
            var entitled = catalog.EntitledFor(action.WorkType!);
            var injections = new List<PendingInjection>(bindings.Length);
            foreach (var binding in bindings)
            {
                if (!entitled.Contains(binding.Secret))
                {
                    if (binding.RefuseWhenNotEntitled)
                    {
                        // Entitlement is the work type's policy: a refusal here is the decision.
                        await ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden,
                            new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.SecretNotEntitled, action.Proposal?.RuleId,
                                $"Work type '{action.WorkType}' is not entitled to the credential route '{action.RouteId}' requires.")).ConfigureAwait(false);
                        return;
                    }
                    continue;
                }
                var read = catalog.Secrets[binding.Secret].Read();
                if (read.Value is null)
                {
                    await ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable,
                        new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.SecretUnavailable,
                            Reason: $"A credential route '{action.RouteId}' needs is unavailable right now.")).ConfigureAwait(false);
                    return;
                }
                scrubber.Remember(binding.Secret, read.Value);
                injections.Add(new PendingInjection(binding, read.Value));
                action.SecretsPlanned.Add(binding.Secret);
            }
            context.Features.Set(new SecretInjections(injections));
        }
        await next(context).ConfigureAwait(false);
    }
}
