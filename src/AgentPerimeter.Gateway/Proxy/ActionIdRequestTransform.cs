using AgentPerimeter.Gateway.Actions;
using Yarp.ReverseProxy.Transforms;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// The upstream receives the action's id (<c>X-Perimeter-Action-Id</c>), so what a private system logged
/// can be matched with the perimeter's intent and outcome records. Any value the agent sent is replaced.
/// </summary>
internal sealed class ActionIdRequestTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        context.ProxyRequest.Headers.Remove(ActionResponses.ActionIdHeader);
        if (context.HttpContext.FindAction() is { } action)
            context.ProxyRequest.Headers.TryAddWithoutValidation(ActionResponses.ActionIdHeader, action.ActionId);
        return ValueTask.CompletedTask;
    }
}
