namespace AgentPerimeter.Benchmarks;

/// <summary>The report's data with each target looked up by name once, for the sections to compare.</summary>
internal sealed class ReportView(ReportData data)
{
    public ReportData Data { get; } = data;
    public BenchSettings Settings => Data.Settings;

    public Target Upstream { get; } = Http(data, TargetNames.Upstream);
    public Target Yarp { get; } = Http(data, TargetNames.Yarp);
    public Target Gateway { get; } = Http(data, TargetNames.Gateway);
    public Target WriteDurability { get; } = Http(data, TargetNames.WriteDurability);
    public Target LimitsMemory { get; } = Http(data, TargetNames.LimitsMemory);
    public Target LimitsRedis { get; } = Http(data, TargetNames.LimitsRedis);

    public Target McpDirect { get; } = Mcp(data, TargetNames.McpDirect);
    public Target McpRaw { get; } = Mcp(data, TargetNames.McpRaw);
    public Target McpInspected { get; } = Mcp(data, TargetNames.McpInspected);
    public Target McpTunnel { get; } = Mcp(data, TargetNames.McpTunnel);

    public TransferTarget UploadServer { get; } = Upload(data, TargetNames.UploadServer);
    public TransferTarget UploadDirect { get; } = Upload(data, TargetNames.UploadDirect);
    public TransferTarget UploadTunnel { get; } = Upload(data, TargetNames.UploadTunnel);

    public TransferTarget DownloadDirect => Data.Egress.Direct;
    public TransferTarget DownloadTunnel => Data.Egress.Tunnel;

    /// <summary>The fixed-rate run's offered load in req/s, as the report names it ("~1,000 req/s").</summary>
    public int FixedRate => Settings.FixedWorkers * Settings.FixedQpsPerWorker;

    private static Target Http(ReportData d, string name) => d.Targets.Single(t => t.Name == name);

    private static Target Mcp(ReportData d, string name) => d.McpTargets.Single(t => t.Name == name);

    private static TransferTarget Upload(ReportData d, string name) => d.Tunnel.Uploads.Single(u => u.Name == name);
}
