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
        RateLimits(sb, v);
        Mcp(sb, v);
        Tunnel(sb, v);
        sb.AppendLine();
    }

    private static void Gateway(StringBuilder sb, ReportView v)
    {
        Target gateway = v.Gateway, yarp = v.Yarp;
        double gatewayRps = gateway.MedianRequestsPerSecond, yarpRps = yarp.MedianRequestsPerSecond;
        double share = gatewayRps / yarpRps;
        double p99Delta = gateway.Fixed!.P99Ms - yarp.Fixed!.P99Ms;
        double rssMb = (v.Data.GatewayRss?.MaxUnderLoadKb ?? 0) * 1024 / 1e6;
        sb.AppendLine($"| gateway throughput | ≥ {ThroughputTarget:P0} of bare YARP req/s | {share:P0} ({gatewayRps:N0} vs {yarpRps:N0} req/s) | {PassOrShort(share >= ThroughputTarget)} |");
        sb.AppendLine($"| gateway p99 at ~{v.FixedRate:N0} req/s | ≤ bare YARP p99 + {P99BudgetMs:F0} ms | {Delta(p99Delta)} ({Ms(gateway.Fixed.P99Ms)} vs {Ms(yarp.Fixed.P99Ms)}) | {PassOrShort(p99Delta <= P99BudgetMs)} |");
        sb.AppendLine($"| gateway RSS under load | < {RssTargetMb:F0} MB | {rssMb:F0} MB (max) | {PassOrShort(rssMb > 0 && rssMb < RssTargetMb)} |");
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

    /// <summary>"p50 +x ms, p99 +y ms": the median p50 and p99 over the wrk rounds, <paramref name="t"/> minus <paramref name="baseline"/>.</summary>
    private static string SaturatedAdded(Target t, Target baseline) =>
        $"p50 {Delta(t.MedianP50Ms - baseline.MedianP50Ms)}, p99 {Delta(t.MedianP99Ms - baseline.MedianP99Ms)}";

    /// <summary>"p50 +x ms, p99 +y ms": the fixed-rate run's p50 and p99, <paramref name="t"/> minus <paramref name="baseline"/>.</summary>
    private static string FixedRateAdded(Target t, Target baseline) =>
        $"p50 {Delta(t.Fixed!.P50Ms - baseline.Fixed!.P50Ms)}, p99 {Delta(t.Fixed.P99Ms - baseline.Fixed.P99Ms)}";
}
