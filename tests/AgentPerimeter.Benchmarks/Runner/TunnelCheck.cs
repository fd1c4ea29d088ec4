namespace AgentPerimeter.Benchmarks;

/// <summary>
/// What the tunnel part of the run saw besides timings: the 10 MB uploads, the server's own count of them, the
/// gateway's tunnel request counter (<c>agentperimeter_tunnel_requests_total</c>, by result) and connections, the
/// connector's memory, and the bound on requests that can have been cut off in flight when load runs ended.
/// </summary>
internal sealed record TunnelCheck(
    IReadOnlyList<TransferTarget> Uploads, long ServerUploads, long ServerUploadBytes,
    IReadOnlyDictionary<string, double> TunnelRequests, long TunnelResponses, long InFlightBound,
    int ConnectionsAfterPreflight, int ConnectionsAtEnd, RssSampler? ConnectorRss)
{
    /// <summary>Gathers the tunnel's counts at the end of the run (the gateway's tunnel connections are read now).</summary>
    public static async Task<TunnelCheck> CollectAsync(HttpClient http, BenchSettings settings, BenchServers servers, BenchTargets targets,
        PreflightResult preflight, McpServerStats server, GatewayMetrics metrics, CancellationToken ct)
    {
        var tunnelTarget = targets.Mcp.Single(t => t.Name == TargetNames.McpTunnel);
        var uploadTunnel = targets.Uploads.Single(t => t.Name == TargetNames.UploadTunnel);
        return new TunnelCheck(targets.Uploads, server.Uploads, server.UploadBytes,
            metrics.TunnelRequests(TunnelBench.Tunnel),
            tunnelTarget.Answered + 1 + uploadTunnel.Answered, // + the preflight call
            settings.RequestsInFlightBound(settings.McpWarmupSeconds),
            preflight.TunnelConnections, await TunnelBench.ConnectionsAsync(http, servers.Gateway.Admin, ct).ConfigureAwait(false), servers.ConnectorRss);
    }

    /// <summary>
    /// The tunnel's checks: every response that came through the tunnel (MCP preflight, warm-up, rounds, fixed rate,
    /// and the uploads) is counted <c>forwarded</c> by <c>agentperimeter_tunnel_requests_total</c>; other results
    /// (failed: the agent went away mid-request, as wrk does at the end of a run) are notes up to the requests that can
    /// have been in flight then, problems beyond; every upload answered with exactly its length, the server counted
    /// every one, and each upload route's actions are allowed HTTP actions.
    /// </summary>
    public void Verify(GatewayMetrics metrics, Findings findings)
    {
        VerifyForwarded(findings);
        VerifyUploadBytes(findings);
        VerifyUploadRoute(TunnelBench.UploadDirectRoute, TargetNames.UploadDirect, metrics, findings);
        VerifyUploadRoute(TunnelBench.UploadTunnelRoute, TargetNames.UploadTunnel, metrics, findings);
    }

    private void VerifyForwarded(Findings findings)
    {
        var forwarded = TunnelRequests.GetValueOrDefault("forwarded");
        if (forwarded < TunnelResponses)
            findings.Problems.Add($"tunnel {TunnelBench.Tunnel}: agentperimeter_tunnel_requests_total counted {forwarded:N0} forwarded requests, "
                + $"fewer than the {TunnelResponses:N0} responses that came through it");
        var others = TunnelRequests.Where(kv => kv.Key != "forwarded" && kv.Value > 0).ToList();
        if (others.Count == 0)
            return;
        var line = $"tunnel {TunnelBench.Tunnel}: agentperimeter_tunnel_requests_total also counted "
            + string.Join(", ", others.Select(kv => $"{kv.Value:N0} {kv.Key}"));
        if (others.Sum(kv => kv.Value) > InFlightBound)
            findings.Problems.Add(line + $", more than the {InFlightBound:N0} requests that can have been cut off in flight when load runs ended");
        else
            findings.Notes.Add(line + $" (at most {InFlightBound:N0} requests can have been cut off in flight when load runs ended)");
    }

    private void VerifyUploadBytes(Findings findings)
    {
        long uploads = Uploads.Sum(u => (long)u.Answered);
        if (ServerUploads < uploads || ServerUploadBytes != ServerUploads * TunnelBench.UploadBytes)
            findings.Problems.Add($"the MCP server read {ServerUploadBytes:N0} bytes in {ServerUploads:N0} uploads, for {uploads:N0} answered uploads "
                + $"of {TunnelBench.UploadBytes:N0} bytes each");
        foreach (var target in Uploads)
        {
            if (target.BytesConfirmed != (long)target.Answered * TunnelBench.UploadBytes)
                findings.Problems.Add($"upload {target.Name}: the server confirmed {target.BytesConfirmed:N0} bytes for {target.Answered:N0} uploads of {TunnelBench.UploadBytes:N0}");
        }
    }

    private void VerifyUploadRoute(string route, string targetName, GatewayMetrics metrics, Findings findings)
    {
        RouteActionCheck.OnlyExpected(metrics, route, "http/allow", findings);
        var target = Uploads.Single(u => u.Name == targetName);
        var allowed = metrics.RouteActions(route).GetValueOrDefault("http/allow");
        if (allowed < target.Answered)
            findings.Problems.Add($"{route}: the gateway allowed {allowed:N0} actions for {target.Answered:N0} answered uploads");
    }
}
