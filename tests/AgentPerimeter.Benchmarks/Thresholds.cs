namespace AgentPerimeter.Benchmarks;

/// <summary>The targets the report checks the measurements against, and when it calls a run disturbed.</summary>
internal static class Thresholds
{
    public const double ThroughputTarget = 0.60;   // gateway req/s ≥ 60 % of bare YARP
    public const double P99BudgetMs = 1.0;         // at ~1k req/s, gateway p99 ≤ bare YARP p99 + 1 ms
    public const double RssTargetMb = 200;         // gateway RSS under load < 200 MB
    public const double McpInspectionTarget = 0.85; // MCP tools/call req/s with inspection ≥ 85 % of the same gateway route uninspected
    public const double RedisLimitsTarget = 0.80;   // gateway req/s with Redis limits ≥ 80 % of the same gateway with in-memory limits
    public const double RoundTripTolerance = 0.01;  // Redis script calls per rate-limited action within 1 ± 1 %
    public const double TunnelThroughputTarget = 0.70; // MCP tools/call req/s through the tunnel ≥ 70 % of the same call through the gateway directly
    public const double TunnelUploadTarget = 0.50;     // a 10 MB body through the tunnel at ≥ 50 % of the gateway's direct MB/s
    public const double WriteDurabilityThroughputTarget = 0.70; // gateway with audit durability Write: req/s ≥ 70 % of bare YARP
    public const double WriteDurabilityP99BudgetMs = 1.0;       // ... and at ~1k req/s, p99 ≤ bare YARP p99 + 1 ms
    public const double FsyncDurabilityThroughputTarget = 0.55; // gateway with audit durability Fsync (the default; the main gateway): req/s ≥ 55 % of bare YARP
    public const double FsyncDurabilityP99BudgetMs = 1.0;       // ... and at ~1k req/s, p99 ≤ bare YARP p99 + the disk's idle fsync p99 + 1 ms
    public const double EgressDownloadTarget = 0.80;            // a 10 MB HTTPS download through an egress CONNECT tunnel at ≥ 80 % of the direct MB/s

    /// <summary>Above this share of the machine's CPU used by other processes, the report warns that the run was disturbed.</summary>
    public const double OtherCpuWarning = 0.05;
}
