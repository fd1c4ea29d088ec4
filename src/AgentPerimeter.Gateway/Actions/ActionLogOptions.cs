namespace AgentPerimeter.Gateway.Actions;

/// <summary>What the action pipeline writes to the operator's log (from <c>Gateway:Logging</c>).</summary>
public sealed class ActionLogOptions
{
    /// <summary>One Information line per action (id, agent, work type, route, target, decision, outcome, status, duration).</summary>
    public bool AccessLog { get; init; }
}
