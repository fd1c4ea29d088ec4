namespace AgentPerimeter.Benchmarks;

/// <summary>What the MCP part of the run saw besides timings: the checks that the load was what it claims to be.</summary>
internal sealed record McpCheck(string ResponseContentType, string AuditAfterPreflight, long EchoCalls, long InFlightBound)
{
    /// <summary>A request cut off mid-body when a load run ended: its truncated JSON is refused before a method is read.</summary>
    private const string CutOff = "//bad_request";
    private const string AllowedCall = $"tools/call/{McpBench.Tool}/allow";

    /// <summary>
    /// wrk and hey count HTTP statuses only, and the gateway refuses an MCP call with 200 and a JSON-RPC
    /// error; so every answered request must show up as an allowed action in the gateway's metrics and as
    /// a call of the tool on the server.
    /// </summary>
    public void Verify(IReadOnlyList<Target> mcpTargets, GatewayMetrics metrics, Findings findings)
    {
        VerifyInspectedRoute(McpBench.InspectedRoute, mcpTargets.Single(t => t.Name == TargetNames.McpInspected), metrics, findings);
        VerifyRawRoute(mcpTargets.Single(t => t.Name == TargetNames.McpRaw), metrics, findings);
        VerifyInspectedRoute(TunnelBench.McpRoute, mcpTargets.Single(t => t.Name == TargetNames.McpTunnel), metrics, findings);

        var answered = mcpTargets.Sum(t => t.Answered);
        if (EchoCalls < answered)
            findings.Problems.Add($"the MCP server ran echo {EchoCalls:N0} times, fewer than the {answered:N0} MCP responses the load generators got: some were errors");
    }

    /// <summary>A route with MCP inspection: only allowed MCP actions, all <c>tools/call</c> of the tool, one per answered request at least.</summary>
    private void VerifyInspectedRoute(string route, Target target, GatewayMetrics metrics, Findings findings)
    {
        var mcpActions = metrics.RouteMcpActions(route);
        var cutOff = mcpActions.GetValueOrDefault(CutOff);
        if (cutOff > 0 && cutOff <= InFlightBound)
            findings.Notes.Add($"{route}: {cutOff:N0} MCP requests arrived truncated (bad_request before a method was read): at most {InFlightBound:N0} can have been cut off in flight when load runs ended");
        foreach (var (key, count) in mcpActions.Where(kv => kv.Key != AllowedCall && !(kv.Key == CutOff && kv.Value <= InFlightBound)))
            findings.Problems.Add($"{route}: the gateway counted {count:N0} MCP actions {key} (mcp_method/tool/decision); all should be {AllowedCall}");
        RouteActionCheck.OnlyExpected(metrics, route, "mcp/allow", findings, tolerated: cutOff <= InFlightBound ? ("mcp/bad_request", cutOff) : null);
        var allowed = mcpActions.GetValueOrDefault(AllowedCall);
        if (allowed < target.Answered)
            findings.Problems.Add($"{route}: the gateway allowed {allowed:N0} tools/call actions, fewer than the {target.Answered:N0} responses the load generators got");
    }

    /// <summary>The uninspected route: only allowed plain HTTP actions, one per answered request at least.</summary>
    private static void VerifyRawRoute(Target target, GatewayMetrics metrics, Findings findings)
    {
        RouteActionCheck.OnlyExpected(metrics, McpBench.RawRoute, "http/allow", findings);
        var allowed = metrics.RouteActions(McpBench.RawRoute).GetValueOrDefault("http/allow");
        if (allowed < target.Answered)
            findings.Problems.Add($"{McpBench.RawRoute}: the gateway allowed {allowed:N0} actions, fewer than the {target.Answered:N0} responses the load generators got");
    }
}
