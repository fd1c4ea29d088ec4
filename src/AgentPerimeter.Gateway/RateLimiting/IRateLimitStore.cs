using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>Where limit state lives: Redis (shared by replicas) or memory (one node).</summary>
public interface IRateLimitStore
{
    /// <summary>Spends one action from every limit in <paramref name="limits"/> atomically, or none if any is exhausted.</summary>
    ValueTask<RateLimitResult> AcquireAsync(string partition, IReadOnlyList<LimitRule> limits, CancellationToken cancellationToken);

    /// <summary>Null when healthy, else why not (for readiness).</summary>
    string? Problem { get; }
}
