using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;
using static AgentPerimeter.Benchmarks.Thresholds;

namespace AgentPerimeter.Benchmarks;

/// <summary>Each target's threshold, what was measured, and whether it passed; the rows without a threshold report a difference.</summary>
internal static class TargetsSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## Targets");
        sb.AppendLine();
        sb.AppendLine("| target | threshold | measured | result |");
        sb.AppendLine("|---|---|---|---|");
        Gateway(sb, v);
        Durability(sb, v);
        RateLimits(sb, v);
        Mcp(sb, v);
        Tunnel(sb, v);
        Egress(sb, v);
        sb.AppendLine();
    }

    private static void Gateway(StringBuilder sb, ReportView v)
    {
        double rssMb = (v.Data.GatewayRss?.MaxUnderLoadKb ?? 0) * 1024 / 1e6;
        ShareOfYarp(sb, v, "gateway throughput", v.Gateway, ThroughputTarget);
        FixedRateP99(sb, v, "gateway", v.Gateway, $"{P99BudgetMs:F0} ms", P99BudgetMs);
        sb.AppendLine($"| gateway RSS under load | < {RssTargetMb:F0} MB | {rssMb:F0} MB (max) | {PassOrShort(rssMb > 0 && rssMb < RssTargetMb)} |");
    }

    /// <summary>
    /// Each audit durability mode against bare YARP: <c>Write</c> (the write-durability gateway) within 1 ms at the fixed
    /// rate; <c>Fsync</c> (the main gateway, the default) within the disk's idle fsync p99 measured in this run, plus 1 ms.
    /// </summary>
    private static void Durability(StringBuilder sb, ReportView v)
    {
        const string fsync = "gateway (fsync durability, the default)";
        double diskP99 = v.Data.Durability.Disk.P99Ms;
        ShareOfYarp(sb, v, $"{TargetNames.WriteDurability} throughput", v.WriteDurability, WriteDurabilityThroughputTarget);
        FixedRateP99(sb, v, TargetNames.WriteDurability, v.WriteDurability, $"{WriteDurabilityP99BudgetMs:F0} ms", WriteDurabilityP99BudgetMs);
        ShareOfYarp(sb, v, $"{fsync} throughput", v.Gateway, FsyncDurabilityThroughputTarget);
        FixedRateP99(sb, v, fsync, v.Gateway, $"the disk's idle fsync p99 ({Ms(diskP99)}) + {FsyncDurabilityP99BudgetMs:F0} ms",
            diskP99 + FsyncDurabilityP99BudgetMs);
    }

    /// <summary>A row "<paramref name="label"/> | ≥ target of bare YARP req/s": the median req/s of <paramref name="t"/> over bare YARP's.</summary>
    private static void ShareOfYarp(StringBuilder sb, ReportView v, string label, Target t, double target)
    {
        double rps = t.MedianRequestsPerSecond, yarpRps = v.Yarp.MedianRequestsPerSecond;
        double share = rps / yarpRps;
        sb.AppendLine($"| {label} | ≥ {target:P0} of bare YARP req/s | {share:P0} ({rps:N0} vs {yarpRps:N0} req/s) | {PassOrShort(share >= target)} |");
    }

    /// <summary>
    /// A row "<paramref name="label"/> p99 at ~N req/s | ≤ bare YARP p99 + <paramref name="budget"/>": the fixed-rate p99 of
    /// <paramref name="t"/> minus bare YARP's, within <paramref name="budgetMs"/>. Compared as shown, to 0.01 ms, so that a
    /// difference shown as +1.00 ms never fails a 1 ms budget by a rounding error of the subtraction.
    /// </summary>
    private static void FixedRateP99(StringBuilder sb, ReportView v, string label, Target t, string budget, double budgetMs)
    {
        double delta = t.Fixed!.P99Ms - v.Yarp.Fixed!.P99Ms;
        sb.AppendLine($"| {label} p99 at ~{v.FixedRate:N0} req/s | ≤ bare YARP p99 + {budget} | {Delta(delta)} ({Ms(t.Fixed.P99Ms)} vs {Ms(v.Yarp.Fixed.P99Ms)}) "
            + $"| {PassOrShort(Math.Round(delta, 2) <= Math.Round(budgetMs, 2))} |");
    }

    private static void RateLimits(StringBuilder sb, ReportView v)
    {
        Target memory = v.LimitsMemory, redis = v.LimitsRedis;
        var rl = v.Data.RateLimits;
        double memoryRps = memory.MedianRequestsPerSecond, redisRps = redis.MedianRequestsPerSecond;
        double redisShare = redisRps / memoryRps;
        sb.AppendLine($"| Redis limits ≥ {RedisLimitsTarget:P0} of in-memory throughput | ≥ {RedisLimitsTarget:P0} of the in-memory limits gateway's req/s (same config, Redis on this machine) "
            + $"| {redisShare:P0} ({redisRps:N0} vs {memoryRps:N0} req/s) | {PassOrShort(redisShare >= RedisLimitsTarget)} |");
        double perAction = rl.ScriptCallsPerAction;
        sb.AppendLine($"| Redis round trips per rate-limited action | 1 (`EVALSHA`/`EVAL` calls per decision, ± {RoundTripTolerance:P0}) "
            + $"| {perAction:F3} ({rl.RedisCommands.ScriptCalls:N0} for {rl.RedisDecisions:N0} decisions) | {PassOrShort(Math.Abs(perAction - 1) <= RoundTripTolerance)} |");
        sb.AppendLine($"| Redis limits p99 at ~{v.FixedRate:N0} req/s vs in-memory limits | reported, no threshold "
            + $"| {Delta(redis.Fixed!.P99Ms - memory.Fixed!.P99Ms)} (p50 {Delta(redis.Fixed.P50Ms - memory.Fixed.P50Ms)}) | — |");
    }

    private static void Mcp(StringBuilder sb, ReportView v)
    {
        Target direct = v.McpDirect, raw = v.McpRaw, inspected = v.McpInspected;
        double directRps = direct.MedianRequestsPerSecond, rawRps = raw.MedianRequestsPerSecond, inspectedRps = inspected.MedianRequestsPerSecond;
        double mcpShare = inspectedRps / rawRps;
        sb.AppendLine($"| MCP inspection throughput | ≥ {McpInspectionTarget:P0} of the same gateway's uninspected req/s (same body, same server) "
            + $"| {mcpShare:P0} ({inspectedRps:N0} vs {rawRps:N0} req/s; {inspectedRps / directRps:P0} of direct) | {PassOrShort(mcpShare >= McpInspectionTarget)} |");
        sb.AppendLine($"| MCP inspected latency added vs direct, saturated (wrk -c{v.Settings.Connections}) | reported, no threshold "
            + $"| {SaturatedAdded(inspected, direct)} (uninspected: {SaturatedAdded(raw, direct)}) | — |");
        sb.AppendLine($"| MCP inspected latency added vs direct at ~{v.FixedRate:N0} req/s (hey) | reported, no threshold "
            + $"| {FixedRateAdded(inspected, direct)} (uninspected: {FixedRateAdded(raw, direct)}) | — |");
    }

    private static void Tunnel(StringBuilder sb, ReportView v)
    {
        Target inspected = v.McpInspected, tunnel = v.McpTunnel;
        double inspectedRps = inspected.MedianRequestsPerSecond, tunnelRps = tunnel.MedianRequestsPerSecond;
        double tunnelShare = tunnelRps / inspectedRps;
        sb.AppendLine($"| MCP through the tunnel throughput | ≥ {TunnelThroughputTarget:P0} of the same call through the gateway directly (inspected route, same server) "
            + $"| {tunnelShare:P0} ({tunnelRps:N0} vs {inspectedRps:N0} req/s) | {PassOrShort(tunnelShare >= TunnelThroughputTarget)} |");
        double directMbps = v.UploadDirect.MedianMegabytesPerSecond, tunnelMbps = v.UploadTunnel.MedianMegabytesPerSecond;
        double uploadShare = tunnelMbps / directMbps;
        sb.AppendLine($"| 10 MB body through the tunnel | ≥ {TunnelUploadTarget:P0} of the gateway's direct MB/s (same server, one upload at a time) "
            + $"| {uploadShare:P0} ({tunnelMbps:N0} vs {directMbps:N0} MB/s) | {PassOrShort(uploadShare >= TunnelUploadTarget)} |");
        sb.AppendLine($"| MCP tunnel latency added vs gateway direct, saturated (wrk -c{v.Settings.Connections}) | reported, no threshold "
            + $"| {SaturatedAdded(tunnel, inspected)} | — |");
        sb.AppendLine($"| MCP tunnel latency added vs gateway direct at ~{v.FixedRate:N0} req/s (hey) | reported, no threshold "
            + $"| {FixedRateAdded(tunnel, inspected)} | — |");
    }

    private static void Egress(StringBuilder sb, ReportView v)
    {
        double directMbps = v.DownloadDirect.MedianMegabytesPerSecond, tunnelMbps = v.DownloadTunnel.MedianMegabytesPerSecond;
        double share = tunnelMbps / directMbps;
        sb.AppendLine($"| 10 MB download through an egress tunnel | ≥ {EgressDownloadTarget:P0} of the direct MB/s (same HTTPS origin, one download at a time) "
            + $"| {share:P0} ({tunnelMbps:N0} vs {directMbps:N0} MB/s) | {PassOrShort(share >= EgressDownloadTarget)} |");
        var f = v.Data.Egress.FirstByte;
        sb.AppendLine($"| egress: time to first byte of a new tunnel, added vs direct (CONNECT + TLS handshake + GET) | reported, no threshold "
            + $"| p50 {Delta(f.TunnelP50Ms - f.DirectP50Ms)}, p90 {Delta(f.TunnelP90Ms - f.DirectP90Ms)} ({Ms(f.TunnelP50Ms)} vs {Ms(f.DirectP50Ms)} at p50) | — |");
        var t = v.Data.Egress.IdleTunnels;
        sb.AppendLine($"| gateway RSS with {t.Requested:N0} idle egress tunnels open | reported, no threshold "
            + $"| {EgressSection.AddedMb(t)}, {EgressSection.KbPerTunnel(t)} per tunnel ({Mb(t.RssBeforeKb)} → {Mb(t.RssOpenKb)}; {t.Opened:N0} open) | — |");
    }

    /// <summary>"p50 +x ms, p99 +y ms": the median p50 and p99 over the wrk rounds, <paramref name="t"/> minus <paramref name="baseline"/>.</summary>
    private static string SaturatedAdded(Target t, Target baseline) =>
        $"p50 {Delta(t.MedianP50Ms - baseline.MedianP50Ms)}, p99 {Delta(t.MedianP99Ms - baseline.MedianP99Ms)}";

    /// <summary>"p50 +x ms, p99 +y ms": the fixed-rate run's p50 and p99, <paramref name="t"/> minus <paramref name="baseline"/>.</summary>
    private static string FixedRateAdded(Target t, Target baseline) =>
        $"p50 {Delta(t.Fixed!.P50Ms - baseline.Fixed!.P50Ms)}, p99 {Delta(t.Fixed.P99Ms - baseline.Fixed.P99Ms)}";
}
