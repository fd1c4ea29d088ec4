using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary><c>Gateway:Redis</c>: shared state for replicas (rate limits, revocations). Unset: in memory, one node.</summary>
public sealed class RedisOptions
{
    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379". Empty: no Redis.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long a rate-limit decision may wait for Redis before the work type's failure mode decides.</summary>
    public int TimeoutMilliseconds { get; set; } = 250;

    /// <summary>Prefix of every key and channel the gateway uses.</summary>
    public string KeyPrefix { get; set; } = "agentperimeter";
}
