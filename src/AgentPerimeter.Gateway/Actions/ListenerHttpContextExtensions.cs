namespace AgentPerimeter.Gateway.Actions;

public static class ListenerHttpContextExtensions
{
    /// <summary>The listener the request's connection arrived on (set per connection, never from a header).</summary>
    public static ListenerKind GetListener(this HttpContext context) =>
        context.Features.Get<ListenerFeature>()?.Kind ?? ListenerKind.Agent;
}
