using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>One limit of a work type: at most <see cref="Limit"/> actions per <see cref="Period"/>, optionally only on a route or for some MCP tools.</summary>
public sealed class LimitRule
{
    public required string Id { get; init; }
    public required int Limit { get; init; }
    public required TimeSpan Period { get; init; }
    public string? Route { get; init; }
    public Glob[] Tools { get; init; } = [];

    /// <summary>GCRA emission interval: one action's share of the period, in microseconds.</summary>
    public long EmissionMicros => Math.Max(1, (long)(Period.TotalMicroseconds / Limit));
    public long PeriodMicros => (long)Period.TotalMicroseconds;

    public bool Applies(string? route, string? mcpMethod, string? tool)
    {
        if (Route is not null && !string.Equals(Route, route, StringComparison.OrdinalIgnoreCase))
            return false;
        if (Tools.Length == 0)
            return true;
        if (mcpMethod != "tools/call" || tool is null)
            return false;
        foreach (var g in Tools)
        {
            if (g.IsMatch(tool))
                return true;
        }
        return false;
    }
}

/// <summary>Whose budget an action spends.</summary>
public enum LimitPartition
{
    Session,
    Agent,
}

/// <summary>A work type's limits and what to do when the limit store cannot answer.</summary>
public sealed class WorkTypeLimits
{
    public static readonly WorkTypeLimits None = new() { Rules = [] };

    public required LimitRule[] Rules { get; init; }
    public LimitPartition Partition { get; init; } = LimitPartition.Session;

    /// <summary>True (default): refuse with 503 when the store is unreachable. False: allow, audited as degraded.</summary>
    public bool FailClosed { get; init; } = true;
}

/// <summary>The outcome of asking the store, as a value.</summary>
public readonly record struct RateLimitResult(bool Allowed, TimeSpan RetryAfter, LimitRule? Limiting, long Remaining, string? StoreError)
{
    public static RateLimitResult Unlimited => new(true, TimeSpan.Zero, null, -1, null);
    public static RateLimitResult Failed(string error) => new(false, TimeSpan.Zero, null, -1, error);
}

/// <summary>Where limit state lives: Redis (shared by replicas) or memory (one node).</summary>
public interface IRateLimitStore
{
    /// <summary>Spends one action from every limit in <paramref name="limits"/> atomically, or none if any is exhausted.</summary>
    ValueTask<RateLimitResult> AcquireAsync(string partition, IReadOnlyList<LimitRule> limits, CancellationToken cancellationToken);

    /// <summary>Null when healthy, else why not (for readiness).</summary>
    string? Problem { get; }
}
