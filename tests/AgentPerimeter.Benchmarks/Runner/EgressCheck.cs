namespace AgentPerimeter.Benchmarks;

/// <summary>
/// What the egress part of the run saw besides timings: the downloads and what the origin served, the tunnels the
/// clients opened against the egress actions the gateway counted (<c>agentperimeter_actions_total</c> and
/// <c>agentperimeter_action_outcomes_total</c> on route <c>egress</c>), its open-tunnel gauge at the end, and the audit
/// records of the preflight tunnels.
/// </summary>
internal sealed record EgressCheck(
    IReadOnlyList<TransferTarget> Downloads, EgressFirstByte FirstByte, EgressIdleTunnels IdleTunnels,
    long OriginDownloads, long OriginSmalls, long SilentAccepted,
    IReadOnlyDictionary<string, double> Actions, IReadOnlyDictionary<string, double> Outcomes, double OpenAtEnd,
    string PreflightAudit)
{
    /// <summary>Tunnels the egress preflight opened: one through .NET's client to the origin, one raw to the silent server.</summary>
    public const int PreflightTunnels = 2;

    /// <summary>Proxy connections the preflight refused with 407: the bare probe, and .NET's client's first CONNECT.</summary>
    public const int PreflightChallenges = 2;

    private const string Allowed = "egress/allow";
    private const string Challenged = "egress/unauthenticated";

    public TransferTarget Direct => Downloads.Single(t => t.Name == TargetNames.DownloadDirect);
    public TransferTarget Tunnel => Downloads.Single(t => t.Name == TargetNames.DownloadTunnel);

    /// <summary>
    /// Tunnels the clients saw opened (answered 200), not counting the download client's: it keeps one tunnel while its
    /// connection lasts (at least one in all, more if it had to reconnect), which only the gateway counts.
    /// </summary>
    public long TunnelsOpenedByClients => PreflightTunnels + FirstByte.TunnelsOpened + IdleTunnels.Opened;

    public static EgressCheck Collect(BenchServers servers, BenchTargets targets, PreflightResult preflight, EgressMeasurements measured, GatewayMetrics metrics) =>
        new(targets.Downloads, measured.FirstByte, measured.IdleTunnels,
            servers.EgressOrigin.Downloads, servers.EgressOrigin.Smalls, servers.SilentServer.Accepted,
            metrics.RouteActions(EgressBench.Route), metrics.RouteOutcomes(EgressBench.Route), metrics.EgressOpen,
            preflight.EgressAudit);

    /// <summary>
    /// The gateway allowed at least one egress action per tunnel the clients opened, plus the download client's; the only
    /// other decision is the 407 challenge; no tunnel is open at the end; the idle tunnels were all open at once, in the
    /// gateway's gauge and at the silent server; the origin served every download and small answer the clients read (a
    /// download or connection that failed or came short is already a problem of its own).
    /// </summary>
    public void Verify(Findings findings)
    {
        var allowed = Actions.GetValueOrDefault(Allowed);
        if (allowed < TunnelsOpenedByClients + 1)
            findings.Problems.Add($"egress: the gateway counted {allowed:N0} allowed egress actions for {TunnelsOpenedByClients:N0} tunnels the clients opened "
                + "plus the download client's");
        var others = Actions.Where(kv => kv.Key is not (Allowed or Challenged) && kv.Value > 0).ToList();
        if (others.Count > 0)
            findings.Problems.Add($"egress: the gateway also counted {string.Join(", ", others.Select(kv => $"{kv.Value:N0} {kv.Key}"))} (kind/decision) on route {EgressBench.Route}");
        if (OpenAtEnd > 0)
            findings.Problems.Add($"egress: agentperimeter_egress_open is {OpenAtEnd:N0} at the end of the run, after every client closed its tunnels");

        var idle = IdleTunnels;
        if (idle.GaugeOpen < idle.GaugeBefore + idle.Opened || idle.ServerHeld < idle.Opened)
            findings.Problems.Add($"idle tunnels: {idle.Opened:N0} opened, but the gateway counted {idle.GaugeOpen - idle.GaugeBefore:N0} more open "
                + $"and the silent server held {idle.ServerHeld:N0} connections");
        if (idle.GaugeAfterClose > idle.GaugeBefore)
            findings.Problems.Add($"idle tunnels: the gateway still counted {idle.GaugeAfterClose:N0} open tunnels 30 s after they closed ({idle.GaugeBefore:N0} before)");

        long downloads = Downloads.Sum(d => (long)d.Answered);
        if (OriginDownloads < downloads)
            findings.Problems.Add($"egress: the origin finished {OriginDownloads:N0} downloads for {downloads:N0} the clients read");
        long smalls = FirstByte.DirectMs.Count + FirstByte.TunnelMs.Count;
        if (OriginSmalls < smalls)
            findings.Problems.Add($"egress: the origin answered GET {EgressBench.SmallPath} {OriginSmalls:N0} times for {smalls:N0} measured connections");
    }
}
