namespace AgentPerimeter.Gateway.Actions;

/// <summary>Which kind of action a request carries.</summary>
public enum ActionKind
{
    Http,
    Mcp,
    /// <summary>A request a sandbox sent out through the egress listener: one CONNECT tunnel or one plain HTTP request.</summary>
    Egress,
    /// <summary>An action a harness ran outside the perimeter (a local tool) and reported: counted, never governed.</summary>
    External,
}
