namespace AgentPerimeter.Benchmarks;

/// <summary>
/// What the audit-durability part of the run saw besides timings: the disk's idle fsync latency, measured before the
/// load, and the write-durability gateway's own metrics at the end of the run (the main gateway's are the run's main scrape).
/// </summary>
internal sealed record DurabilityCheck(DiskFsync Disk, GatewayMetrics WriteMetrics, RssSampler? WriteRss)
{
    public static async Task<DurabilityCheck> CollectAsync(HttpClient http, BenchServers servers, DiskFsync disk, CancellationToken ct) =>
        new(disk, await GatewayMetrics.ScrapeAsync(http, servers.WriteGateway.Admin, ct).ConfigureAwait(false), servers.WriteGateway.Rss);

    /// <summary>
    /// Both gateways still in their modes at the end; the write-durability gateway wrote every batch (no audit write
    /// error) and counted an allowed HTTP action on the HTTP route for every response the load generators got from it
    /// (the preflight included), and nothing else there. A memory-backed temporary directory is a note: fsync costs
    /// nothing there, so the two modes cannot differ.
    /// </summary>
    public void Verify(IReadOnlyList<Target> targets, GatewayMetrics main, Findings findings)
    {
        foreach (var (name, metrics, mode) in new[] { (TargetNames.Gateway, main, DurabilityBench.Fsync), (TargetNames.WriteDurability, WriteMetrics, DurabilityBench.Write) })
        {
            if (!metrics.AuditDurabilityIs(mode))
                findings.Problems.Add($"{name}: agentperimeter_audit_durability reports mode {metrics.AuditDurabilityText} at the end of the run, "
                    + $"expected \"{DurabilityBench.MetricLabel(mode)}\"");
        }
        if (WriteMetrics.AuditWriteErrors > 0)
            findings.Problems.Add($"{TargetNames.WriteDurability}: {WriteMetrics.AuditWriteErrors:N0} audit write errors");

        RouteActionCheck.OnlyExpected(WriteMetrics, Servers.HttpRoute, "http/allow", findings, TargetNames.WriteDurability);
        long answered = targets.Single(t => t.Name == TargetNames.WriteDurability).Answered + 1; // + the preflight request
        var allowed = WriteMetrics.RouteActions(Servers.HttpRoute).GetValueOrDefault("http/allow");
        if (allowed < answered)
            findings.Problems.Add($"{TargetNames.WriteDurability}: {allowed:N0} allowed actions on route {Servers.HttpRoute} for {answered:N0} responses; "
                + "some responses were not governed");

        if (Disk.IsMemoryBacked)
            findings.Notes.Add($"the run's temporary directory, where the gateways keep their audit logs, is on {Disk.FileSystem}: fsync reaches no device there, "
                + "so the fsync and write durability modes cost the same; run with TMPDIR on a disk to compare them");
    }
}
