using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>Whose budget an action spends.</summary>
public enum LimitPartition
{
    Session,
    Agent,
}
