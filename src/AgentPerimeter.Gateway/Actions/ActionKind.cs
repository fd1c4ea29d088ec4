namespace AgentPerimeter.Gateway.Actions;

/// <summary>Which kind of action a request carries.</summary>
public enum ActionKind
{
    Http,
    Mcp,
    /// <summary>An action a harness ran outside the perimeter (a local tool) and reported: counted, never governed.</summary>
    External,
}
