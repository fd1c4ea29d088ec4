namespace AgentPerimeter.Benchmarks;

/// <summary>
/// Everything the run starts, in its temporary directory: the upstream, bare YARP, the MCP server, redis-server, the
/// egress destinations (an HTTPS origin and a silent TCP server, in this process), the main gateway (with its tunnel and
/// egress listeners) and its connector, the write-durability gateway, and the two rate-limit gateways. Disposing stops them all, in an order that keeps each one's peers up while it goes, and deletes the directory.
/// </summary>
internal sealed class BenchServers : IAsyncDisposable
{
    private readonly BenchSettings _settings;
    private readonly HttpClient _http;
    private readonly string _dotnet;
    private WebApplication? _upstream, _yarpInProcess;
    private ChildProcess? _yarpChild, _mcpServer, _redis, _connector;
    private GatewayProcess? _gateway, _writeGateway, _memoryGateway, _redisGateway;
    private RssSampler? _connectorRss;
    private EgressOrigin? _egressOrigin;
    private SilentTcpServer? _silentServer;

    private BenchServers(BenchSettings settings, HttpClient http)
    {
        _settings = settings;
        _http = http;
        _dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        Temp = Directory.CreateTempSubdirectory("agentperimeter-bench-");
    }

    /// <summary>The run's temporary directory; the main gateway's config/ and data/ are directly in it.</summary>
    public DirectoryInfo Temp { get; }

    public Uri UpstreamUri { get; private set; } = null!;
    public Uri YarpUri { get; private set; } = null!;

    /// <summary>Bare YARP's RSS sampler; null when it runs in the benchmark's own process.</summary>
    public RssSampler? YarpRss { get; private set; }

    public Uri McpUri { get; private set; } = null!;
    public ChildProcess McpServer => _mcpServer!;
    public ChildProcess Redis => _redis!;
    public int RedisPort { get; private set; }
    public string RedisVersion { get; private set; } = "";

    /// <summary>The HTTPS origin the egress targets download from, in this process.</summary>
    public EgressOrigin EgressOrigin => _egressOrigin!;

    /// <summary>The raw egress tunnels' destination, in this process.</summary>
    public SilentTcpServer SilentServer => _silentServer!;

    /// <summary>The shipped config, no limits; also serves the MCP, tunnel and upload routes, and the egress listener.</summary>
    public GatewayProcess Gateway => _gateway!;

    /// <summary>The same build and config as <see cref="Gateway"/> (without the tunnel), audit durability <c>Write</c>.</summary>
    public GatewayProcess WriteGateway => _writeGateway!;

    public ChildProcess Connector => _connector!;
    public RssSampler ConnectorRss => _connectorRss!;
    public GatewayProcess MemoryGateway => _memoryGateway!;
    public GatewayProcess RedisGateway => _redisGateway!;

    /// <summary>The main gateway's audit log.</summary>
    public string AuditLog => Path.Combine(Temp.FullName, "data", "audit.jsonl");

    /// <summary>The children whose CPU time counts as the benchmark's own, not as other processes'.</summary>
    public int[] ChildPids =>
    [
        Gateway.Process.Pid, WriteGateway.Process.Pid, McpServer.Pid, MemoryGateway.Process.Pid, RedisGateway.Process.Pid, Redis.Pid, Connector.Pid,
        .. _yarpChild is { } yarp ? [yarp.Pid] : Array.Empty<int>(),
    ];

    /// <summary>Starts everything, in order; if anything fails to start, stops what did start and throws.</summary>
    public static async Task<BenchServers> StartAsync(BenchSettings settings, string redisServer, HttpClient http, CancellationToken ct)
    {
        var servers = new BenchServers(settings, http);
        try
        {
            await servers.StartAllAsync(redisServer, ct).ConfigureAwait(false);
            return servers;
        }
        catch
        {
            await servers.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A problem for each child that is no longer running.</summary>
    public void ReportExited(Findings findings)
    {
        foreach (var child in new[] { Gateway.Process, WriteGateway.Process, MemoryGateway.Process, RedisGateway.Process, McpServer, Redis, Connector })
        {
            if (child.HasExited)
                findings.Problems.Add($"{child.Name} exited during the run:" + Environment.NewLine + child.Tail());
        }
    }

    private async Task StartAllAsync(string redisServer, CancellationToken ct)
    {
        _upstream = await Servers.StartUpstreamAsync(ct).ConfigureAwait(false);
        UpstreamUri = Servers.BoundUri(_upstream);
        BenchLog.Write($"upstream on {UpstreamUri}");

        await StartYarpAsync(ct).ConfigureAwait(false);
        BenchLog.Write($"bare YARP on {YarpUri}");

        (_mcpServer, var mcpUri) = await ServerChildLauncher.StartAsync(TargetNames.McpDirect, _dotnet, [McpBench.ServeMcpCommand], Temp.FullName, ct).ConfigureAwait(false);
        McpUri = mcpUri;
        BenchLog.Write($"MCP server (pid {_mcpServer.Pid}) on {McpUri}");

        (_redis, var redisPort) = await RedisBench.StartServerAsync(redisServer, Path.Combine(Temp.FullName, "redis"), ct).ConfigureAwait(false);
        RedisPort = redisPort;
        RedisVersion = await RedisBench.VersionAsync(RedisPort, ct).ConfigureAwait(false);
        BenchLog.Write($"redis-server {RedisVersion} (pid {_redis.Pid}) on 127.0.0.1:{RedisPort}");

        _egressOrigin = await EgressOrigin.StartAsync(ct).ConfigureAwait(false);
        _silentServer = new SilentTcpServer();
        BenchLog.Write($"egress origin on {_egressOrigin.Uri} (127.0.0.1, self-signed certificate for {EgressBench.Host}), silent TCP server on 127.0.0.1:{_silentServer.Port}");

        var launcher = new GatewayLauncher(_settings, _dotnet, UpstreamUri, McpUri, _http);
        await StartGatewayAndConnectorAsync(launcher, ct).ConfigureAwait(false);
        await StartWriteGatewayAsync(launcher, ct).ConfigureAwait(false);
        await StartLimitsGatewaysAsync(launcher, ct).ConfigureAwait(false);
    }

    private async Task StartYarpAsync(CancellationToken ct)
    {
        if (_settings.YarpInProcess)
        {
            _yarpInProcess = await Servers.StartYarpAsync(UpstreamUri, ct).ConfigureAwait(false);
            YarpUri = Servers.BoundUri(_yarpInProcess);
            return;
        }
        (_yarpChild, var yarpUri) = await ServerChildLauncher.StartAsync(TargetNames.Yarp, _dotnet, [Servers.ServeYarpCommand, UpstreamUri.ToString()],
            Temp.FullName, ct).ConfigureAwait(false);
        YarpUri = yarpUri;
        YarpRss = new RssSampler(_yarpChild.Pid);
    }

    /// <summary>
    /// The main gateway also declares tunnel bench-mcp and listens for its connector on a loopback port of its own, and
    /// opens its egress listener, with rules to the egress origin and the silent server.
    /// </summary>
    private async Task StartGatewayAndConnectorAsync(GatewayLauncher launcher, CancellationToken ct)
    {
        var tunnelCredential = TunnelBench.WriteCredential(Temp.FullName);
        var tunnelPort = LoopbackPort.Free();
        _gateway = await launcher.StartAsync(TargetNames.Gateway, Temp.FullName, ct, tunnel: (tunnelPort, tunnelCredential),
            egress: new EgressPorts(EgressOrigin.Port, SilentServer.Port)).ConfigureAwait(false);
        await PrepareAsync(_gateway, $", tunnel listener on 127.0.0.1:{tunnelPort}, egress listener on {_gateway.Egress}", ct).ConfigureAwait(false);

        _connector = await TunnelBench.StartConnectorAsync(_dotnet, _settings.ConnectorDll, tunnelPort, McpUri, tunnelCredential,
            Temp.FullName, _http, _gateway.Admin, ct).ConfigureAwait(false);
        _connectorRss = new RssSampler(_connector.Pid);
        BenchLog.Write($"connector (pid {_connector.Pid}) serves tunnel '{TunnelBench.Tunnel}' to {McpUri}: "
            + $"{await TunnelBench.ConnectionsAsync(_http, _gateway.Admin, ct).ConfigureAwait(false)} connection(s) open");
    }

    /// <summary>
    /// The same build and config as the main gateway (no limits; no tunnel, which only the MCP and upload targets use),
    /// with <c>--Gateway:Audit:Durability=Write</c>, its own data directory and signing key.
    /// </summary>
    private async Task StartWriteGatewayAsync(GatewayLauncher launcher, CancellationToken ct)
    {
        _writeGateway = await launcher.StartAsync(TargetNames.WriteDurability, Path.Combine(Temp.FullName, DurabilityBench.WriteGatewayDirectory), ct,
            auditDurability: DurabilityBench.Write).ConfigureAwait(false);
        await PrepareAsync(_writeGateway, $", audit durability {DurabilityBench.Write}", ct).ConfigureAwait(false);
    }

    /// <summary>The same build and config plus limits on the HTTP route; they differ only in where limit state lives.</summary>
    private async Task StartLimitsGatewaysAsync(GatewayLauncher launcher, CancellationToken ct)
    {
        _memoryGateway = await launcher.StartAsync(TargetNames.LimitsMemory, Path.Combine(Temp.FullName, "gateway-memory-limits"), ct,
            withLimits: true).ConfigureAwait(false);
        await PrepareAsync(_memoryGateway, "", ct).ConfigureAwait(false);

        _redisGateway = await launcher.StartAsync(TargetNames.LimitsRedis, Path.Combine(Temp.FullName, "gateway-redis-limits"), ct,
            withLimits: true, redisPort: RedisPort).ConfigureAwait(false);
        await PrepareAsync(_redisGateway, $", limits in redis on port {RedisPort}", ct).ConfigureAwait(false);
    }

    private async Task PrepareAsync(GatewayProcess gateway, string detail, CancellationToken ct)
    {
        BenchLog.Write($"{gateway.Process.Name} (pid {gateway.Process.Pid}) agents on {gateway.Agent}, admin on {gateway.Admin}{detail}");
        await gateway.PrepareAsync(_http, ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var rss in new[] { _gateway?.Rss, _writeGateway?.Rss, YarpRss, _memoryGateway?.Rss, _redisGateway?.Rss, _connectorRss })
        {
            if (rss is not null)
                await rss.DisposeAsync().ConfigureAwait(false);
        }
        // The connector before its gateway; the gateways before Redis, so the Redis gateway never sees its store go away.
        foreach (var child in new[] { _connector, _gateway?.Process, _writeGateway?.Process, _memoryGateway?.Process, _redisGateway?.Process, _redis, _mcpServer, _yarpChild })
        {
            if (child is not null)
                await child.DisposeAsync().ConfigureAwait(false);
        }
        if (_silentServer is not null)
            await _silentServer.DisposeAsync().ConfigureAwait(false);
        if (_egressOrigin is not null)
            await _egressOrigin.DisposeAsync().ConfigureAwait(false);
        if (_yarpInProcess is not null)
            await StopAsync(_yarpInProcess).ConfigureAwait(false);
        if (_upstream is not null)
            await StopAsync(_upstream).ConfigureAwait(false);
        try
        {
            Temp.Delete(recursive: true);
        }
        catch (IOException ex)
        {
            BenchLog.Write($"could not delete the temporary directory: {ex.Message}");
        }
    }

    private static async Task StopAsync(WebApplication app)
    {
        try
        {
            await app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
