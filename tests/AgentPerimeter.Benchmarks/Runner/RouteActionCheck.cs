namespace AgentPerimeter.Benchmarks;

/// <summary>The check every benchmark route shares: the gateway counted its actions with one kind and decision only.</summary>
internal static class RouteActionCheck
{
    /// <summary>
    /// A problem for each <c>kind/decision</c> of <paramref name="route"/>'s actions other than <paramref name="expected"/>;
    /// <paramref name="gateway"/> names the gateway in the message when it is not the main one.
    /// </summary>
    /// <param name="tolerated">A key and the count of it already accounted for (as a note) by the caller.</param>
    public static void OnlyExpected(GatewayMetrics metrics, string route, string expected, Findings findings, string? gateway = null, (string Key, double Count)? tolerated = null)
    {
        foreach (var (key, count) in metrics.RouteActions(route).Where(kv => kv.Key != expected && !(tolerated is { } t && kv.Key == t.Key && kv.Value <= t.Count)))
            findings.Problems.Add($"{route}: {gateway ?? "the gateway"} counted {count:N0} actions {key} (kind/decision); all should be {expected}");
    }
}
