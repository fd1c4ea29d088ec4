namespace AgentPerimeter.Benchmarks;

/// <summary>
/// What the load goes to: the HTTP targets (<c>GET /api/repos</c>; their wrk rounds rotate together), the MCP targets
/// (the <c>tools/call</c> POST; another rotation), the 10 MB upload targets, and the 10 MB download targets (direct and
/// through an egress tunnel).
/// </summary>
internal sealed record BenchTargets(IReadOnlyList<Target> Http, IReadOnlyList<Target> Mcp, IReadOnlyList<TransferTarget> Uploads,
    IReadOnlyList<TransferTarget> Downloads)
{
    public static BenchTargets Create(BenchSettings settings, BenchServers servers) =>
        new(HttpTargets(settings, servers), McpTargets(servers), UploadTargets(servers), DownloadTargets(servers));

    private static List<Target> HttpTargets(BenchSettings settings, BenchServers s) =>
    [
        new(TargetNames.Upstream, new Uri(s.UpstreamUri, "api/repos"), null),
        new(TargetNames.Yarp, new Uri(s.YarpUri, "api/repos"), s.YarpRss),
        new(TargetNames.Gateway, new Uri(s.Gateway.Agent, "api/repos"), s.Gateway.Rss) { CpuProcesses = [s.Gateway.Process] },
        // The main gateway's warm-up (the group's), not the limits gateways' shorter one: it is compared with the main gateway and bare YARP.
        new(TargetNames.WriteDurability, new Uri(s.WriteGateway.Agent, "api/repos"), s.WriteGateway.Rss)
        {
            Token = s.WriteGateway.Token, CpuProcesses = [s.WriteGateway.Process],
        },
        new(TargetNames.LimitsMemory, new Uri(s.MemoryGateway.Agent, "api/repos"), s.MemoryGateway.Rss)
        {
            Token = s.MemoryGateway.Token, WarmupSeconds = settings.LimitsWarmupSeconds, CpuProcesses = [s.MemoryGateway.Process],
        },
        new(TargetNames.LimitsRedis, new Uri(s.RedisGateway.Agent, "api/repos"), s.RedisGateway.Rss)
        {
            Token = s.RedisGateway.Token, WarmupSeconds = settings.LimitsWarmupSeconds, CpuProcesses = [s.RedisGateway.Process, s.Redis],
        },
    ];

    private static List<Target> McpTargets(BenchServers s)
    {
        var script = McpBench.WriteWrkScript(s.Temp.FullName);
        var gateway = s.Gateway;
        return
        [
            new(TargetNames.McpDirect, new Uri(s.McpUri, McpBench.McpPath.TrimStart('/')), null, script),
            new(TargetNames.McpRaw, new Uri(gateway.Agent, McpBench.RawPath.TrimStart('/')), gateway.Rss, script),
            new(TargetNames.McpInspected, new Uri(gateway.Agent, McpBench.InspectedPath.TrimStart('/')), gateway.Rss, script) { CpuProcesses = [gateway.Process] },
            new(TargetNames.McpTunnel, new Uri(gateway.Agent, TunnelBench.McpPath.TrimStart('/')), gateway.Rss, script)
            {
                AlsoRss = s.ConnectorRss, CpuProcesses = [gateway.Process, s.Connector],
            },
        ];
    }

    private static List<TransferTarget> UploadTargets(BenchServers s) =>
    [
        new(TargetNames.UploadServer, new Uri(s.McpUri, McpBench.UploadPath.TrimStart('/'))),
        new(TargetNames.UploadDirect, new Uri(s.Gateway.Agent, TunnelBench.UploadDirectPath.TrimStart('/'))),
        new(TargetNames.UploadTunnel, new Uri(s.Gateway.Agent, TunnelBench.UploadTunnelPath.TrimStart('/'))),
    ];

    /// <summary>Both by the origin's name, <c>https://localhost:PORT/download</c>: the direct client connects to 127.0.0.1, the other asks the proxy for it.</summary>
    private static List<TransferTarget> DownloadTargets(BenchServers s) =>
    [
        new(TargetNames.DownloadDirect, new Uri(s.EgressOrigin.Uri, EgressBench.DownloadPath.TrimStart('/'))),
        new(TargetNames.DownloadTunnel, new Uri(s.EgressOrigin.Uri, EgressBench.DownloadPath.TrimStart('/'))),
    ];
}
