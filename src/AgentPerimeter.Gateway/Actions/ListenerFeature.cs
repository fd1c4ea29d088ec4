namespace AgentPerimeter.Gateway.Actions;

/// <summary>Connection feature set by the listener itself, so no Host header can fake it.</summary>
public sealed class ListenerFeature(ListenerKind kind)
{
    public ListenerKind Kind { get; } = kind;
}
