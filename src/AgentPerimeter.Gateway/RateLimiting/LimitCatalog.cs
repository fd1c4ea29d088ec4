using System.Collections.Frozen;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>The rate limits of every work type: the policy snapshot's rate-limit section.</summary>
public sealed class LimitCatalog : IPolicySection<LimitCatalog>
{
    public static LimitCatalog Empty { get; } = new() { ByWorkType = FrozenDictionary<string, WorkTypeLimits>.Empty };

    public required FrozenDictionary<string, WorkTypeLimits> ByWorkType { get; init; }

    public WorkTypeLimits For(string workType) => ByWorkType.GetValueOrDefault(workType) ?? WorkTypeLimits.None;
}
