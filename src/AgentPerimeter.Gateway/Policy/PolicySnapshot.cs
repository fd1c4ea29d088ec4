namespace AgentPerimeter.Gateway.Policy;

/// <summary>HTTP feature: the policy snapshot an action was opened with.</summary>
public sealed class PolicySnapshot(PerimeterPolicy policy)
{
    public PerimeterPolicy Policy { get; } = policy;
}
