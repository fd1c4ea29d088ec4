namespace AgentPerimeter.Gateway.Actions;

/// <summary>Endpoint metadata: the listeners an endpoint is served on (endpoints without it are proxied routes).</summary>
public sealed class ListenerMetadata(params ListenerKind[] kinds)
{
    public IReadOnlyList<ListenerKind> Kinds { get; } = kinds;

    public bool Allows(ListenerKind kind) => Array.IndexOf((ListenerKind[])Kinds, kind) >= 0;
}
