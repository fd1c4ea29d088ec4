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
