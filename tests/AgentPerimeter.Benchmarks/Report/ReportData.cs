namespace AgentPerimeter.Benchmarks;

/// <summary>Everything the report shows: the settings, the measured targets, the run's checks, the machine, and what went wrong.</summary>
internal sealed record ReportData(
    BenchSettings Settings,
    IReadOnlyList<Target> Targets,
    IReadOnlyList<Target> McpTargets,
    McpCheck Mcp,
    RateLimitCheck RateLimits,
    TunnelCheck Tunnel,
    DurabilityCheck Durability,
    EgressCheck Egress,
    RssSampler? GatewayRss,
    RssSampler? YarpRss,
    GatewayMetrics Metrics,
    long AuditLogBytes,
    MachineInfo Machine,
    string LoadAverageBefore,
    double? OtherCpuShare,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Notes);
