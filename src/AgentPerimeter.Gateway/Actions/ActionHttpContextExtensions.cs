namespace AgentPerimeter.Gateway.Actions;

public static class ActionHttpContextExtensions
{
    public static ActionContext GetAction(this HttpContext context) =>
        context.Features.Get<IActionFeature>()?.Action
        ?? throw new InvalidOperationException("The perimeter action middleware has not run for this request.");

    public static ActionContext? FindAction(this HttpContext context) => context.Features.Get<IActionFeature>()?.Action;
}
