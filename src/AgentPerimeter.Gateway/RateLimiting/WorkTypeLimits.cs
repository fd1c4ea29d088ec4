using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>A work type's limits and what to do when the limit store cannot answer.</summary>
public sealed class WorkTypeLimits
{
    public static readonly WorkTypeLimits None = new() { Rules = [] };

    public required LimitRule[] Rules { get; init; }
    public LimitPartition Partition { get; init; } = LimitPartition.Session;

    /// <summary>True (default): refuse with 503 when the store is unreachable. False: allow, audited as degraded.</summary>
    public bool FailClosed { get; init; } = true;
}
