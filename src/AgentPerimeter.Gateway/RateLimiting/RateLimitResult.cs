using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>The outcome of asking the store, as a value.</summary>
public readonly record struct RateLimitResult(bool Allowed, TimeSpan RetryAfter, LimitRule? Limiting, long Remaining, string? StoreError)
{
    public static RateLimitResult Unlimited => new(true, TimeSpan.Zero, null, -1, null);
    public static RateLimitResult Failed(string error) => new(false, TimeSpan.Zero, null, -1, error);
}
