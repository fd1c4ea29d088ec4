using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// The end of deciding: the proposal the deciding stages (policy, MCP, approval) left standing becomes
/// the action's decision, fixed from here on. Later stages (limits, secrets, forwarding) only add an outcome.
/// </summary>
internal sealed class DecisionSealStage(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        if (action.DeferredRefusal is { } refused)
            return ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden, refused); // no stage answered it: still never forwarded
        if (!action.IsDecided)
            action.Decide(action.Proposal ?? throw new InvalidOperationException($"Action {action.ActionId} reached the end of deciding with no decision."));
        return next(context);
    }
}
