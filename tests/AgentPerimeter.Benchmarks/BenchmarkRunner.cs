using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// A load target: a URL and, for child processes, an RSS sampler. HTTP targets get <c>GET /api/repos</c>;
/// MCP targets (with a wrk script) get the MCP <c>tools/call</c> POST.
/// </summary>
internal sealed class Target(string name, Uri url, RssSampler? rss, string? wrkScript = null)
{
    public string Name { get; } = name;
    public Uri Url { get; } = url;
    public RssSampler? Rss { get; } = rss;

    /// <summary>This target's own bearer token (a gateway other than the main one mints its own); null: the run's token.</summary>
    public string? Token { get; init; }

    /// <summary>This target's warm-up in seconds; null: the warm-up of its group.</summary>
    public int? WarmupSeconds { get; init; }

    /// <summary>Another process sampled for RSS while this target is under load (the connector behind the tunnel target).</summary>
    public RssSampler? AlsoRss { get; init; }

    /// <summary>Processes whose CPU time is summed over this target's own load runs (warm-up, rounds, fixed rate), in <see cref="LoadCpu"/>.</summary>
    public IReadOnlyList<ChildProcess> CpuProcesses { get; init; } = [];

    /// <summary>CPU time (user + system) each of <see cref="CpuProcesses"/> used during this target's load runs.</summary>
    public TimeSpan[] LoadCpu => _loadCpu ??= new TimeSpan[CpuProcesses.Count];
    private TimeSpan[]? _loadCpu;

    /// <summary>The Lua script that makes every wrk request the MCP <c>tools/call</c>; null for the HTTP targets.</summary>
    public string? WrkScript { get; } = wrkScript;

    public bool IsMcp => WrkScript is not null;
    public List<WrkResult> Rounds { get; } = [];
    public HeyResult? Fixed { get; set; }

    /// <summary>Responses the load generators received from this target (warm-up, rounds, fixed rate).</summary>
    public long Answered { get; set; }

    public Task<WrkResult> WrkAsync(string token, int seconds, int connections, CancellationToken ct) =>
        LoadAsync(() => Wrk.RunAsync(Url, Token ?? token, seconds, connections, ct, WrkScript));

    public Task<HeyResult> HeyAsync(string token, BenchSettings s, CancellationToken ct) =>
        LoadAsync(() => Hey.RunAsync(Url, Token ?? token, s.FixedSeconds, s.FixedWorkers, s.FixedQpsPerWorker, ct, IsMcp));

    private async Task<T> LoadAsync<T>(Func<Task<T>> load)
    {
        var before = CpuProcesses.Select(p => p.CpuTime).ToArray();
        var measured = AlsoRss is null ? load : () => AlsoRss.MeasureAsync(load);
        var result = await (Rss is null ? measured() : Rss.MeasureAsync(measured)).ConfigureAwait(false);
        for (int i = 0; i < CpuProcesses.Count; i++)
            LoadCpu[i] += CpuProcesses[i].CpuTime - before[i];
        return result;
    }
}

/// <summary>What the MCP part of the run saw besides timings: the checks that the load was what it claims to be.</summary>
internal sealed record McpCheck(string ResponseContentType, string AuditAfterPreflight, long EchoCalls);

/// <summary>
/// What the tunnel part of the run saw besides timings: the 10 MB uploads, the server's own count of them, the
/// gateway's tunnel request counter (<c>agentperimeter_tunnel_requests_total</c>, by result) and connections, the
/// connector's memory, and the bound on requests that can have been cut off in flight when load runs ended.
/// </summary>
internal sealed record TunnelCheck(
    IReadOnlyList<UploadTarget> Uploads, long ServerUploads, long ServerUploadBytes,
    IReadOnlyDictionary<string, double> TunnelRequests, long TunnelResponses, long InFlightBound,
    int ConnectionsAfterPreflight, int ConnectionsAtEnd, RssSampler? ConnectorRss);

/// <summary>
/// What the rate-limit part of the run saw besides timings: each limits gateway's own metrics, and, over one
/// window (from just before the preflight requests to the end of the run), the commands Redis ran and the
/// rate-limit decisions each limits gateway made (any result: each is one store call).
/// </summary>
internal sealed record RateLimitCheck(
    string RedisVersion, GatewayMetrics MemoryMetrics, GatewayMetrics RedisMetrics,
    CommandStats RedisCommands, double RedisDecisions,
    RssSampler? MemoryRss, RssSampler? RedisRss)
{
    /// <summary>Script calls (EVALSHA/EVAL) per rate-limit decision of the Redis gateway: its round trips per action.</summary>
    public double ScriptCallsPerAction => RedisDecisions > 0 ? RedisCommands.ScriptCalls / RedisDecisions : double.NaN;
}

/// <summary>
/// Starts the upstream, bare YARP and the gateway, drives wrk and hey against them, and writes the
/// report. Every child is killed at the end, also on failure or Ctrl+C.
/// </summary>
internal static class BenchmarkRunner
{
    public const string UpstreamName = "upstream (direct, reference)";
    public const string YarpName = "bare YARP";
    public const string GatewayName = "gateway";
    public const string McpDirectName = "MCP server (direct, reference)";
    public const string McpRawName = "gateway, uninspected (/raw/mcp)";
    public const string McpInspectedName = "gateway, MCP inspection (/inspected/mcp)";
    public const string McpTunnelName = "gateway, MCP inspection, through the tunnel (/tunnel/mcp)";
    public const string UploadServerName = "MCP server /upload (direct, reference)";
    public const string UploadDirectName = "gateway, direct (/direct/upload)";
    public const string UploadTunnelName = "gateway, through the tunnel (/tunnel/upload)";
    public const string LimitsMemoryName = "gateway, in-memory limits";
    public const string LimitsRedisName = "gateway, Redis limits";

    /// <summary>Above this share of the machine's CPU used by other processes, the report warns that the run was disturbed.</summary>
    public const double OtherCpuWarning = 0.05;

    public static async Task<int> RunAsync(string[] args)
    {
        BenchSettings settings;
        try
        {
            settings = BenchSettings.Load(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cts.Cancel();
        });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ProcessRegistry.KillAll();

        try
        {
            return await RunCoreAsync(settings, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("benchmark cancelled; its processes were stopped").ConfigureAwait(false);
            return 130;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"benchmark failed: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            ProcessRegistry.KillAll();
        }
    }

    private static async Task<int> RunCoreAsync(BenchSettings settings, CancellationToken ct)
    {
        foreach (var tool in new[] { "wrk", "hey" })
        {
            if (FindOnPath(tool) is null)
                throw new InvalidOperationException($"'{tool}' is not on PATH; the benchmark needs wrk and hey.");
        }
        var redisServer = settings.RedisServer.Contains('/', StringComparison.Ordinal)
            ? (File.Exists(settings.RedisServer) ? settings.RedisServer : null)
            : FindOnPath(settings.RedisServer);
        if (redisServer is null)
            throw new InvalidOperationException($"'{settings.RedisServer}' not found; the rate-limit targets need redis-server "
                + "(Debian package redis-server, or set BENCH_REDIS_SERVER).");
        if (!File.Exists(settings.GatewayDll))
            throw new InvalidOperationException($"No gateway build at {settings.GatewayDll}; run: dotnet build -c Release src/AgentPerimeter.Gateway");
        if (!File.Exists(settings.ConnectorDll))
            throw new InvalidOperationException($"No connector build at {settings.ConnectorDll}; run: dotnet build -c Release src/AgentPerimeter.Connector");

        var dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        var temp = Directory.CreateTempSubdirectory("agentperimeter-bench-");
        WebApplication? upstream = null, yarpInProcess = null;
        ChildProcess? yarpChild = null, mcpChild = null, gateway = null, redisChild = null, memoryGateway = null, redisGateway = null, connector = null;
        RssSampler? gatewayRss = null, yarpRss = null, memoryRss = null, redisRss = null, connectorRss = null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            Log($"settings: warm-up {settings.WarmupSeconds} s (MCP {settings.McpWarmupSeconds} s, rate-limit gateways {settings.LimitsWarmupSeconds} s), "
                + $"{settings.Rounds} round(s) x {settings.RoundSeconds} s, "
                + $"{settings.Connections} connections, fixed rate {settings.FixedRate} req/s for {settings.FixedSeconds} s, "
                + $"bare YARP {(settings.YarpInProcess ? "in-process" : "in its own process")}");

            upstream = await Servers.StartUpstreamAsync(ct).ConfigureAwait(false);
            var upstreamUri = Servers.BoundUri(upstream);
            Log($"upstream on {upstreamUri}");

            Uri yarpUri;
            if (settings.YarpInProcess)
            {
                yarpInProcess = await Servers.StartYarpAsync(upstreamUri, ct).ConfigureAwait(false);
                yarpUri = Servers.BoundUri(yarpInProcess);
            }
            else
            {
                (yarpChild, yarpUri) = await StartServerChildAsync(YarpName, dotnet, [Servers.ServeYarpCommand, upstreamUri.ToString()], temp.FullName, ct).ConfigureAwait(false);
                yarpRss = new RssSampler(yarpChild.Pid);
            }
            Log($"bare YARP on {yarpUri}");

            (mcpChild, var mcpUri) = await StartServerChildAsync(McpDirectName, dotnet, [McpBench.ServeMcpCommand], temp.FullName, ct).ConfigureAwait(false);
            Log($"MCP server (pid {mcpChild.Pid}) on {mcpUri}");

            (redisChild, var redisPort) = await RedisBench.StartServerAsync(redisServer, Path.Combine(temp.FullName, "redis"), ct).ConfigureAwait(false);
            var redisVersion = await RedisBench.VersionAsync(redisPort, ct).ConfigureAwait(false);
            Log($"redis-server {redisVersion} (pid {redisChild.Pid}) on 127.0.0.1:{redisPort}");

            // The main gateway also declares tunnel bench-mcp and listens for its connector on a loopback port of its own.
            var tunnelCredential = TunnelBench.WriteCredential(temp.FullName);
            var tunnelPort = FreePort();
            var (gatewayProcess, agentUri, adminUri) = await StartGatewayAsync(GatewayName, settings, dotnet, upstreamUri, mcpUri, temp.FullName, http, ct,
                tunnel: (tunnelPort, tunnelCredential)).ConfigureAwait(false);
            gateway = gatewayProcess;
            Log($"gateway (pid {gateway.Pid}) agents on {agentUri}, admin on {adminUri}, tunnel listener on 127.0.0.1:{tunnelPort}");
            var token = await MintTokenAsync(http, adminUri, ct).ConfigureAwait(false);
            gatewayRss = new RssSampler(gateway.Pid);

            connector = await TunnelBench.StartConnectorAsync(dotnet, settings.ConnectorDll, tunnelPort, mcpUri, tunnelCredential,
                temp.FullName, http, adminUri, ct).ConfigureAwait(false);
            connectorRss = new RssSampler(connector.Pid);
            Log($"connector (pid {connector.Pid}) serves tunnel '{TunnelBench.Tunnel}' to {mcpUri}: "
                + $"{await TunnelBench.ConnectionsAsync(http, adminUri, ct).ConfigureAwait(false)} connection(s) open");

            // The same build and config plus limits on the HTTP route; they differ only in where limit state lives.
            var (memoryProcess, memoryAgent, memoryAdmin) = await StartGatewayAsync(LimitsMemoryName, settings, dotnet, upstreamUri, mcpUri,
                Path.Combine(temp.FullName, "gateway-memory-limits"), http, ct, withLimits: true).ConfigureAwait(false);
            memoryGateway = memoryProcess;
            Log($"{LimitsMemoryName} (pid {memoryGateway.Pid}) agents on {memoryAgent}, admin on {memoryAdmin}");
            var memoryToken = await MintTokenAsync(http, memoryAdmin, ct).ConfigureAwait(false);
            memoryRss = new RssSampler(memoryGateway.Pid);

            var (redisProcess, redisAgent, redisAdmin) = await StartGatewayAsync(LimitsRedisName, settings, dotnet, upstreamUri, mcpUri,
                Path.Combine(temp.FullName, "gateway-redis-limits"), http, ct, withLimits: true, redisPort: redisPort).ConfigureAwait(false);
            redisGateway = redisProcess;
            Log($"{LimitsRedisName} (pid {redisGateway.Pid}) agents on {redisAgent}, admin on {redisAdmin}, limits in redis on port {redisPort}");
            var redisToken = await MintTokenAsync(http, redisAdmin, ct).ConfigureAwait(false);
            redisRss = new RssSampler(redisGateway.Pid);

            var targets = new List<Target>
            {
                new(UpstreamName, new Uri(upstreamUri, "api/repos"), null),
                new(YarpName, new Uri(yarpUri, "api/repos"), yarpRss),
                new(GatewayName, new Uri(agentUri, "api/repos"), gatewayRss),
                new(LimitsMemoryName, new Uri(memoryAgent, "api/repos"), memoryRss)
                {
                    Token = memoryToken, WarmupSeconds = settings.LimitsWarmupSeconds, CpuProcesses = [memoryGateway],
                },
                new(LimitsRedisName, new Uri(redisAgent, "api/repos"), redisRss)
                {
                    Token = redisToken, WarmupSeconds = settings.LimitsWarmupSeconds, CpuProcesses = [redisGateway, redisChild],
                },
            };
            var script = McpBench.WriteWrkScript(temp.FullName);
            var mcpTargets = new List<Target>
            {
                new(McpDirectName, new Uri(mcpUri, McpBench.McpPath.TrimStart('/')), null, script),
                new(McpRawName, new Uri(agentUri, McpBench.RawPath.TrimStart('/')), gatewayRss, script),
                new(McpInspectedName, new Uri(agentUri, McpBench.InspectedPath.TrimStart('/')), gatewayRss, script) { CpuProcesses = [gateway] },
                new(McpTunnelName, new Uri(agentUri, TunnelBench.McpPath.TrimStart('/')), gatewayRss, script)
                {
                    AlsoRss = connectorRss, CpuProcesses = [gateway, connector],
                },
            };
            var uploadTargets = new List<UploadTarget>
            {
                new(UploadServerName, new Uri(mcpUri, McpBench.UploadPath.TrimStart('/'))),
                new(UploadDirectName, new Uri(agentUri, TunnelBench.UploadDirectPath.TrimStart('/'))),
                new(UploadTunnelName, new Uri(agentUri, TunnelBench.UploadTunnelPath.TrimStart('/'))),
            };
            // Redis's command counts and the Redis gateway's decisions from here to the end: its preflight and every load.
            var redisCommandsBefore = await RedisBench.CommandStatsAsync(redisPort, ct).ConfigureAwait(false);
            var redisDecisionsBefore = (await GatewayMetrics.ScrapeAsync(http, redisAdmin, ct).ConfigureAwait(false)).RateLimitDecisionCount;
            foreach (var target in targets)
                await PreflightAsync(http, target, target.Token ?? token, ct).ConfigureAwait(false);
            foreach (var (name, admin) in new[] { (LimitsMemoryName, memoryAdmin), (LimitsRedisName, redisAdmin) })
            {
                var preflight = await GatewayMetrics.ScrapeAsync(http, admin, ct).ConfigureAwait(false);
                if (preflight.RateLimitAllowed < 1)
                    throw new InvalidOperationException($"{name}: the preflight request was not rate-limit checked (agentperimeter_ratelimit_decisions_total: "
                        + $"{string.Join(", ", preflight.RateLimitDecisions.Select(kv => $"{kv.Key} {kv.Value}"))}); the benchmark's limits do not apply to GET /api/repos");
            }
            var redisPreflight = (await RedisBench.CommandStatsAsync(redisPort, ct).ConfigureAwait(false)).Since(redisCommandsBefore);
            Log($"rate-limit preflight: both limits gateways checked their limits; redis ran {redisPreflight.ScriptCalls} script call(s) for the one request "
                + $"({string.Join(", ", redisPreflight.Calls.Select(kv => $"{kv.Key} {kv.Value}"))})");
            string? mcpContentType = null;
            foreach (var target in mcpTargets)
            {
                var contentType = await PreflightMcpAsync(http, target, token, ct).ConfigureAwait(false);
                if (mcpContentType is not null && contentType != mcpContentType)
                    throw new InvalidOperationException($"{target.Name}: answered tools/call as {contentType}, the MCP server as {mcpContentType}");
                mcpContentType = contentType;
            }
            var auditLog = Path.Combine(temp.FullName, "data", "audit.jsonl");
            var auditAfterPreflight = CheckMcpAudit(auditLog);
            Log($"MCP preflight: tools/call answered as {mcpContentType} by every MCP target; audit: {auditAfterPreflight}");
            var tunnelPreflight = (await GatewayMetrics.ScrapeAsync(http, adminUri, ct).ConfigureAwait(false)).TunnelRequests(TunnelBench.Tunnel);
            if (tunnelPreflight.GetValueOrDefault("forwarded") < 1)
                throw new InvalidOperationException($"the preflight call through the tunnel was not counted as forwarded by agentperimeter_tunnel_requests_total: "
                    + GatewayMetrics.Format(tunnelPreflight));
            var connectionsAfterPreflight = await TunnelBench.ConnectionsAsync(http, adminUri, ct).ConfigureAwait(false);

            var problems = new List<string>();
            var notes = new List<string>();
            var loadBefore = CpuAccounting.LoadAverage();
            var children = new List<int> { gateway.Pid, mcpChild.Pid, memoryGateway.Pid, redisGateway.Pid, redisChild.Pid, connector.Pid };
            if (yarpChild is not null)
                children.Add(yarpChild.Pid);
            var cpu = new CpuAccounting([.. children]);

            await RunRoundsAsync(settings, targets, settings.WarmupSeconds, token, problems, notes, ct).ConfigureAwait(false);
            foreach (var target in targets.Where(t => t.Name != UpstreamName))
                await RunFixedRateAsync(settings, target, token, problems, ct).ConfigureAwait(false);

            await RunRoundsAsync(settings, mcpTargets, settings.McpWarmupSeconds, token, problems, notes, ct).ConfigureAwait(false);
            foreach (var target in mcpTargets)
                await RunFixedRateAsync(settings, target, token, problems, ct).ConfigureAwait(false);

            await TunnelBench.RunUploadsAsync(uploadTargets, token, problems, ct).ConfigureAwait(false);

            var otherCpu = cpu.OtherShare();
            if (otherCpu > OtherCpuWarning)
                notes.Add($"other processes used {otherCpu:P0} of the machine's CPU during the measurement, so the numbers are disturbed; "
                    + "rerun on a quiet machine");
            var metrics = await GatewayMetrics.ScrapeAsync(http, adminUri, ct).ConfigureAwait(false);
            var (echoCalls, serverUploads, serverUploadBytes) = await McpServerStatsAsync(http, mcpUri, ct).ConfigureAwait(false);
            CheckMcpCounts(mcpTargets, metrics, echoCalls, problems);
            var tunnelTarget = mcpTargets.Single(t => t.Name == McpTunnelName);
            var uploadTunnel = uploadTargets.Single(t => t.Name == UploadTunnelName);
            int tunnelWrkRuns = settings.Rounds + (settings.McpWarmupSeconds > 0 ? 1 : 0);
            var tunnelCheck = new TunnelCheck(uploadTargets, serverUploads, serverUploadBytes,
                metrics.TunnelRequests(TunnelBench.Tunnel),
                tunnelTarget.Answered + 1 + uploadTunnel.Answered, // + the preflight call
                (long)tunnelWrkRuns * settings.Connections + settings.FixedWorkers,
                connectionsAfterPreflight, await TunnelBench.ConnectionsAsync(http, adminUri, ct).ConfigureAwait(false), connectorRss);
            CheckTunnelCounts(tunnelCheck, metrics, problems, notes);

            var memoryMetrics = await GatewayMetrics.ScrapeAsync(http, memoryAdmin, ct).ConfigureAwait(false);
            var redisMetrics = await GatewayMetrics.ScrapeAsync(http, redisAdmin, ct).ConfigureAwait(false);
            var redisCommands = (await RedisBench.CommandStatsAsync(redisPort, ct).ConfigureAwait(false)).Since(redisCommandsBefore);
            var rateLimits = new RateLimitCheck(redisVersion, memoryMetrics, redisMetrics, redisCommands,
                redisMetrics.RateLimitDecisionCount - redisDecisionsBefore,
                memoryRss, redisRss);
            CheckRateLimitCounts(settings, targets, metrics, rateLimits, problems);

            foreach (var child in new[] { gateway, memoryGateway, redisGateway, mcpChild, redisChild, connector })
            {
                if (child.HasExited)
                    problems.Add($"{child.Name} exited during the run:" + Environment.NewLine + child.Tail());
            }

            var report = Report.Build(new ReportData(
                settings, targets, mcpTargets, new McpCheck(mcpContentType!, auditAfterPreflight, echoCalls), rateLimits, tunnelCheck,
                gatewayRss, yarpRss, metrics,
                File.Exists(auditLog) ? new FileInfo(auditLog).Length : 0,
                await MachineInfo.CollectAsync(settings.RepoRoot, ct).ConfigureAwait(false),
                loadBefore, otherCpu,
                problems, notes));

            Console.WriteLine();
            Console.WriteLine(report);
            Directory.CreateDirectory(Path.GetDirectoryName(settings.OutputPath)!);
            await File.WriteAllTextAsync(settings.OutputPath, report, ct).ConfigureAwait(false);
            Log($"wrote {Path.GetRelativePath(settings.RepoRoot, settings.OutputPath)}");

            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync("the run had errors (see the report's Problems section):" + Environment.NewLine
                    + string.Join(Environment.NewLine, problems.Select(p => "  - " + p))).ConfigureAwait(false);
                return 1;
            }
            return 0;
        }
        finally
        {
            foreach (var rss in new[] { gatewayRss, yarpRss, memoryRss, redisRss, connectorRss })
            {
                if (rss is not null)
                    await rss.DisposeAsync().ConfigureAwait(false);
            }
            // The connector before its gateway; the gateways before Redis, so the Redis gateway never sees its store go away.
            foreach (var child in new[] { connector, gateway, memoryGateway, redisGateway, redisChild })
            {
                if (child is not null)
                    await child.DisposeAsync().ConfigureAwait(false);
            }
            if (mcpChild is not null)
                await mcpChild.DisposeAsync().ConfigureAwait(false);
            if (yarpChild is not null)
                await yarpChild.DisposeAsync().ConfigureAwait(false);
            if (yarpInProcess is not null)
                await StopAsync(yarpInProcess).ConfigureAwait(false);
            if (upstream is not null)
                await StopAsync(upstream).ConfigureAwait(false);
            try
            {
                temp.Delete(recursive: true);
            }
            catch (IOException ex)
            {
                Log($"could not delete the temporary directory: {ex.Message}");
            }
        }
    }

    /// <summary>Warm-up of each target, then interleaved measured rounds; the order rotates each round.</summary>
    private static async Task RunRoundsAsync(BenchSettings settings, List<Target> targets, int warmupSeconds, string token,
        List<string> problems, List<string> notes, CancellationToken ct)
    {
        foreach (var target in targets)
        {
            var seconds = target.WarmupSeconds ?? warmupSeconds;
            if (seconds <= 0)
                continue;
            Log($"warm-up {target.Name}: {seconds} s");
            var warm = await target.WrkAsync(token, seconds, settings.Connections, ct).ConfigureAwait(false);
            Check(target, "warm-up", warm, problems, notes);
        }

        for (int round = 0; round < settings.Rounds; round++)
        {
            // Interleaved, and the order rotates each round, so drift (thermal, page cache, the audit
            // log growing) does not always favour the same target.
            for (int i = 0; i < targets.Count; i++)
            {
                var target = targets[(i + round) % targets.Count];
                var result = await target.WrkAsync(token, settings.RoundSeconds, settings.Connections, ct).ConfigureAwait(false);
                target.Rounds.Add(result);
                Check(target, $"round {round + 1}", result, problems, notes);
                Log($"round {round + 1}/{settings.Rounds} {target.Name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms");
            }
        }
    }

    private static async Task RunFixedRateAsync(BenchSettings settings, Target target, string token, List<string> problems, CancellationToken ct)
    {
        Log($"fixed rate {target.Name}: hey -z {settings.FixedSeconds}s -c {settings.FixedWorkers} -q {settings.FixedQpsPerWorker}");
        var result = await target.HeyAsync(token, settings, ct).ConfigureAwait(false);
        target.Fixed = result;
        target.Answered += result.Responses;
        if (result.Non2xx > 0 || result.Errors > 0)
            problems.Add($"{target.Name} fixed rate: {result.Non2xx} non-2xx responses, {result.Errors} errors");
        Log($"fixed rate {target.Name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms");
    }

    private static void Check(Target target, string phase, WrkResult result, List<string> problems, List<string> notes)
    {
        target.Answered += result.Requests;
        if (result.Non2xx > 0)
            problems.Add($"{target.Name} {phase}: {result.Non2xx} non-2xx responses of {result.Requests}");
        if (result.SocketErrors > 0)
            notes.Add($"{target.Name} {phase}: wrk counted {result.SocketErrors} socket errors (connect/read/write/timeout)");
    }

    /// <summary>Starts this benchmark's own executable as a server child (serve-yarp, serve-mcp) and waits for its address.</summary>
    private static async Task<(ChildProcess Child, Uri Uri)> StartServerChildAsync(string name, string dotnet, string[] command, string workDir, CancellationToken ct)
    {
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var benchDll = Path.Combine(AppContext.BaseDirectory, "AgentPerimeter.Benchmarks.dll");
        var child = ChildProcess.Start(name, dotnet, [benchDll, .. command], workDir, line =>
        {
            if (line.StartsWith(Servers.ListeningPrefix, StringComparison.Ordinal))
                listening.TrySetResult(new Uri(line[Servers.ListeningPrefix.Length..].Trim()));
        });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!listening.Task.IsCompleted)
        {
            if (child.HasExited)
                break;
            try
            {
                await Task.WhenAny(listening.Task, Task.Delay(100, timeout.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ct.ThrowIfCancellationRequested();
                break;
            }
        }
        if (!listening.Task.IsCompleted)
        {
            var tail = child.Tail();
            await child.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"{name} did not start:{Environment.NewLine}{tail}");
        }
        return (child, await listening.Task.ConfigureAwait(false));
    }

    /// <summary>
    /// Starts a gateway in <paramref name="dir"/> (its config/ and data/ there) and waits until it is ready.
    /// <paramref name="withLimits"/> adds the benchmark's rate limits; <paramref name="redisPort"/> keeps their
    /// state in that Redis instead of in memory; <paramref name="tunnel"/> declares tunnel <c>bench-mcp</c>
    /// (its credential file), opens the tunnel listener on that port, and adds the tunnel and upload routes.
    /// </summary>
    private static async Task<(ChildProcess Child, Uri Agent, Uri Admin)> StartGatewayAsync(string name,
        BenchSettings settings, string dotnet, Uri upstream, Uri mcpServer, string dir, HttpClient http, CancellationToken ct,
        bool withLimits = false, int? redisPort = null, (int Port, string CredentialFile)? tunnel = null)
    {
        // The shipped configuration, copied so the run never touches the repository's config/ or data/,
        // plus the benchmark's two MCP routes and their rules (and, for the limits gateways, its limits).
        var configDir = Path.Combine(dir, "config");
        var dataDir = Path.Combine(dir, "data");
        Directory.CreateDirectory(configDir);
        Directory.CreateDirectory(dataDir);
        // All of config/, subfolders included: files the config refers to by relative path (secret sources) come along.
        var shipped = Path.Combine(settings.RepoRoot, "config");
        foreach (var file in Directory.GetFiles(shipped, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(configDir, Path.GetRelativePath(shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        AddMcpRoutes(Path.Combine(configDir, "routes.json"), mcpServer, withTunnel: tunnel is not null);
        AddMcpRules(Path.Combine(configDir, "perimeter.json"), withTunnel: tunnel is not null);
        if (withLimits)
            AddRateLimits(Path.Combine(configDir, "perimeter.json"));

        int agentPort = FreePort(), adminPort = FreePort();
        while (adminPort == agentPort)
            adminPort = FreePort();
        var agent = new Uri($"http://127.0.0.1:{agentPort}/");
        var admin = new Uri($"http://127.0.0.1:{adminPort}/");
        List<string> arguments =
        [
            settings.GatewayDll,
            "--config-dir", configDir,
            $"--Gateway:Listeners:Agent=http://127.0.0.1:{agentPort}",
            $"--Gateway:Listeners:Admin=http://127.0.0.1:{adminPort}",
            $"--Gateway:DataDirectory={dataDir}",
            "--Gateway:Logging:Console=false",
            $"--ReverseProxy:Clusters:demo:Destinations:demo-1:Address={upstream}",
        ];
        if (redisPort is { } port)
            arguments.Add($"--Gateway:Redis:ConnectionString=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        if (tunnel is { } t)
            arguments.AddRange(TunnelBench.GatewayArguments(t.Port, t.CredentialFile));
        var child = ChildProcess.Start(name, dotnet, arguments, dir);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (child.HasExited || DateTime.UtcNow > deadline)
            {
                var tail = child.Tail();
                await child.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"{name} did not become ready:{Environment.NewLine}{tail}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(admin, "readyz"), ct).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                    return (child, agent, admin);
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    private static readonly JsonDocumentOptions ConfigJson = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>
    /// Two routes to the benchmark's MCP server that differ only in the <c>Perimeter.Mcp</c> metadata:
    /// <c>/inspected/mcp</c> with MCP inspection and <c>/raw/mcp</c> without (a plain HTTP route). Both set the
    /// path to <c>/mcp</c> on the way upstream. <paramref name="withTunnel"/> adds <c>/tunnel/mcp</c>, the inspected
    /// route's twin whose cluster's one destination is <c>tunnel://bench-mcp</c>, and the plain upload routes
    /// <c>/direct/upload</c> (to the server) and <c>/tunnel/upload</c> (through the tunnel), both set to <c>/upload</c>.
    /// </summary>
    private static void AddMcpRoutes(string path, Uri mcpServer, bool withTunnel)
    {
        var root = JsonNode.Parse(File.ReadAllText(path), documentOptions: ConfigJson)?.AsObject()
            ?? throw new InvalidOperationException($"{path} is empty");
        var proxy = root["ReverseProxy"] as JsonObject ?? throw new InvalidOperationException($"{path} has no ReverseProxy section");
        var routes = proxy["Routes"] as JsonObject ?? throw new InvalidOperationException($"{path} has no ReverseProxy:Routes");
        var clusters = proxy["Clusters"] as JsonObject ?? throw new InvalidOperationException($"{path} has no ReverseProxy:Clusters");
        routes[McpBench.InspectedRoute] = new JsonObject
        {
            ["ClusterId"] = McpBench.Cluster,
            ["Match"] = new JsonObject { ["Path"] = McpBench.InspectedPath },
            ["Metadata"] = new JsonObject { ["Perimeter.Mcp"] = "true" },
            ["Transforms"] = new JsonArray(new JsonObject { ["PathSet"] = McpBench.McpPath }),
        };
        routes[McpBench.RawRoute] = new JsonObject
        {
            ["ClusterId"] = McpBench.Cluster,
            ["Match"] = new JsonObject { ["Path"] = McpBench.RawPath },
            ["Transforms"] = new JsonArray(new JsonObject { ["PathSet"] = McpBench.McpPath }),
        };
        clusters[McpBench.Cluster] = new JsonObject
        {
            ["Destinations"] = new JsonObject { [McpBench.Cluster + "-1"] = new JsonObject { ["Address"] = mcpServer.ToString() } },
        };
        if (withTunnel)
        {
            routes[TunnelBench.McpRoute] = new JsonObject
            {
                ["ClusterId"] = TunnelBench.Cluster,
                ["Match"] = new JsonObject { ["Path"] = TunnelBench.McpPath },
                ["Metadata"] = new JsonObject { ["Perimeter.Mcp"] = "true" },
                ["Transforms"] = new JsonArray(new JsonObject { ["PathSet"] = McpBench.McpPath }),
            };
            routes[TunnelBench.UploadDirectRoute] = new JsonObject
            {
                ["ClusterId"] = McpBench.Cluster,
                ["Match"] = new JsonObject { ["Path"] = TunnelBench.UploadDirectPath },
                ["Transforms"] = new JsonArray(new JsonObject { ["PathSet"] = McpBench.UploadPath }),
            };
            routes[TunnelBench.UploadTunnelRoute] = new JsonObject
            {
                ["ClusterId"] = TunnelBench.Cluster,
                ["Match"] = new JsonObject { ["Path"] = TunnelBench.UploadTunnelPath },
                ["Transforms"] = new JsonArray(new JsonObject { ["PathSet"] = McpBench.UploadPath }),
            };
            clusters[TunnelBench.Cluster] = new JsonObject
            {
                ["Destinations"] = new JsonObject { [TunnelBench.Cluster + "-1"] = new JsonObject { ["Address"] = $"tunnel://{TunnelBench.Tunnel}" } },
            };
        }
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Rules for the two MCP routes in work type <c>build</c> (the benchmark's session): <c>echo</c> only on the inspected one;
    /// <paramref name="withTunnel"/>: also <c>echo</c> on the tunnel's MCP route, and POST on the two upload routes.
    /// </summary>
    private static void AddMcpRules(string path, bool withTunnel)
    {
        var root = JsonNode.Parse(File.ReadAllText(path), documentOptions: ConfigJson)?.AsObject()
            ?? throw new InvalidOperationException($"{path} is empty");
        var rules = root["Perimeter"]?["WorkTypes"]?["build"]?["Rules"] as JsonArray
            ?? throw new InvalidOperationException($"{path} has no Perimeter:WorkTypes:build:Rules; the benchmark's session is of work type 'build'");
        rules.Add(new JsonObject
        {
            ["Id"] = McpBench.InspectedRoute,
            ["Route"] = McpBench.InspectedRoute,
            ["Methods"] = new JsonArray("POST"),
            ["Paths"] = new JsonArray(McpBench.InspectedPath),
            ["Tools"] = new JsonArray(McpBench.Tool),
        });
        rules.Add(new JsonObject
        {
            ["Id"] = McpBench.RawRoute,
            ["Route"] = McpBench.RawRoute,
            ["Methods"] = new JsonArray("POST"),
            ["Paths"] = new JsonArray(McpBench.RawPath),
        });
        if (withTunnel)
        {
            rules.Add(new JsonObject
            {
                ["Id"] = TunnelBench.McpRoute,
                ["Route"] = TunnelBench.McpRoute,
                ["Methods"] = new JsonArray("POST"),
                ["Paths"] = new JsonArray(TunnelBench.McpPath),
                ["Tools"] = new JsonArray(McpBench.Tool),
            });
            foreach (var (route, routePath) in new[] { (TunnelBench.UploadDirectRoute, TunnelBench.UploadDirectPath), (TunnelBench.UploadTunnelRoute, TunnelBench.UploadTunnelPath) })
            {
                rules.Add(new JsonObject
                {
                    ["Id"] = route,
                    ["Route"] = route,
                    ["Methods"] = new JsonArray("POST"),
                    ["Paths"] = new JsonArray(routePath),
                });
            }
        }
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The benchmark's limits on work type <c>build</c> (the benchmark's session), on the HTTP route only, per session,
    /// failing closed: a store error is a 503, which the run counts as a problem. Replaces any limits the shipped
    /// config gives <c>build</c>.
    /// </summary>
    private static void AddRateLimits(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path), documentOptions: ConfigJson)?.AsObject()
            ?? throw new InvalidOperationException($"{path} is empty");
        var build = root["Perimeter"]?["WorkTypes"]?["build"] as JsonObject
            ?? throw new InvalidOperationException($"{path} has no Perimeter:WorkTypes:build; the benchmark's session is of work type 'build'");
        var limits = new JsonArray();
        foreach (var (id, limit, period) in RedisBench.Limits)
            limits.Add(new JsonObject { ["Id"] = id, ["Limit"] = limit, ["Period"] = period, ["Route"] = RedisBench.LimitedRoute });
        build["RateLimits"] = new JsonObject
        {
            ["Partition"] = "session",
            ["FailureMode"] = "closed",
            ["Limits"] = limits,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static async Task<string> MintTokenAsync(HttpClient http, Uri admin, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(new Uri(admin, "admin/sessions"),
            new { agent = "bench", workType = "build", ttlSeconds = 28800 }, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"minting a session token failed: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("token").GetString()
            ?? throw new InvalidOperationException("the session response has no token");
    }

    private static async Task PreflightAsync(HttpClient http, Target target, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target.Url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new InvalidOperationException($"{target.Name}: GET {target.Url.PathAndQuery} answered {(int)response.StatusCode}, expected 200: {body}");
        }
    }

    /// <summary>
    /// One MCP <c>tools/call</c> of <c>echo</c>, exactly as the load generators send it: 200, and the tool's
    /// result rather than a JSON-RPC error (the gateway refuses MCP calls with 200 and an error). Returns the
    /// response's media type.
    /// </summary>
    private static async Task<string> PreflightMcpAsync(HttpClient http, Target target, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
        {
            Content = new StringContent(McpBench.ToolCallBody, new System.Net.Http.Headers.MediaTypeHeaderValue(McpBench.ContentType)),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation("Accept", McpBench.Accept);
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var expected = $"{{\"type\":\"text\",\"text\":\"{McpBench.Text}\"}}";
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains(expected, StringComparison.Ordinal)
            || body.Contains("\"error\"", StringComparison.Ordinal) || body.Contains("\"isError\":true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{target.Name}: POST {target.Url.PathAndQuery} tools/call answered {(int)response.StatusCode}, "
                + $"expected 200 with the echo result {expected}: {body}");
        }
        return response.Content.Headers.ContentType?.MediaType ?? "(no content type)";
    }

    /// <summary>
    /// After the preflight the audit log holds one record per route (a request's record is durable before
    /// its response): the inspected call must be an MCP action, tools/call of echo, allowed by its rule;
    /// the uninspected one a plain HTTP action.
    /// </summary>
    private static string CheckMcpAudit(string auditLog)
    {
        if (!File.Exists(auditLog))
            throw new InvalidOperationException($"the gateway wrote no audit log at {auditLog}");
        JsonObject? inspected = null, raw = null, tunnel = null;
        foreach (var line in File.ReadLines(auditLog))
        {
            if (JsonNode.Parse(line) is not JsonObject record)
                continue;
            var route = record["route"] is JsonValue r && r.TryGetValue<string>(out var name) ? name : null;
            if (route == McpBench.InspectedRoute)
                inspected = record;
            else if (route == McpBench.RawRoute)
                raw = record;
            else if (route == TunnelBench.McpRoute)
                tunnel = record;
        }

        static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (inspected is null || Str(inspected["kind"]) != "mcp" || Str(inspected["mcp"]?["method"]) != "tools/call"
            || Str(inspected["mcp"]?["target"]) != McpBench.Tool || Str(inspected["decision"]) != "allow" || Str(inspected["rule"]) != McpBench.InspectedRoute)
        {
            throw new InvalidOperationException($"the audit record of the inspected MCP call is not an allowed MCP tools/call of '{McpBench.Tool}' "
                + $"by rule {McpBench.InspectedRoute}: {inspected?.ToJsonString() ?? "(none)"}");
        }
        if (raw is null || Str(raw["kind"]) != "http" || Str(raw["decision"]) != "allow" || raw["mcp"] is not null)
            throw new InvalidOperationException($"the audit record of the uninspected MCP call is not an allowed plain HTTP action: {raw?.ToJsonString() ?? "(none)"}");
        if (tunnel is null || Str(tunnel["kind"]) != "mcp" || Str(tunnel["mcp"]?["method"]) != "tools/call" || Str(tunnel["mcp"]?["target"]) != McpBench.Tool
            || Str(tunnel["decision"]) != "allow" || Str(tunnel["rule"]) != TunnelBench.McpRoute || Str(tunnel["tunnel"]) != TunnelBench.Tunnel)
        {
            throw new InvalidOperationException($"the audit record of the MCP call through the tunnel is not an allowed MCP tools/call of '{McpBench.Tool}' "
                + $"by rule {TunnelBench.McpRoute} with \"tunnel\":\"{TunnelBench.Tunnel}\": {tunnel?.ToJsonString() ?? "(none)"}");
        }
        if (inspected["tunnel"] is not null || raw["tunnel"] is not null)
            throw new InvalidOperationException($"the audit records of the direct MCP calls name a tunnel: {inspected.ToJsonString()} {raw.ToJsonString()}");
        return $"{McpBench.InspectedRoute} → kind mcp, {Str(inspected["mcp"]?["method"])} {Str(inspected["mcp"]?["target"])}, "
            + $"arguments {Str(inspected["mcp"]?["arguments"])}, decision {Str(inspected["decision"])} (rule {Str(inspected["rule"])}); "
            + $"{McpBench.RawRoute} → kind http, decision {Str(raw["decision"])} (rule {Str(raw["rule"])}); "
            + $"{TunnelBench.McpRoute} → kind mcp, {Str(tunnel["mcp"]?["method"])} {Str(tunnel["mcp"]?["target"])}, decision {Str(tunnel["decision"])} "
            + $"(rule {Str(tunnel["rule"])}), tunnel {Str(tunnel["tunnel"])}";
    }

    /// <summary>The MCP server's own counts: <c>echo</c> calls, uploads, and the bytes of all uploads it read.</summary>
    private static async Task<(long Echo, long Uploads, long UploadBytes)> McpServerStatsAsync(HttpClient http, Uri mcpServer, CancellationToken ct)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(mcpServer, McpBench.StatsPath.TrimStart('/')), ct).ConfigureAwait(false));
        return (json.RootElement.GetProperty("echo").GetInt64(), json.RootElement.GetProperty("uploads").GetInt64(),
            json.RootElement.GetProperty("uploadBytes").GetInt64());
    }

    /// <summary>
    /// wrk and hey count HTTP statuses only, and the gateway refuses an MCP call with 200 and a JSON-RPC
    /// error; so every answered request must show up as an allowed action in the gateway's metrics and as
    /// a call of the tool on the server.
    /// </summary>
    private static void CheckMcpCounts(List<Target> mcpTargets, GatewayMetrics metrics, long echoCalls, List<string> problems)
    {
        var raw = mcpTargets.Single(t => t.Name == McpRawName);
        var inspected = mcpTargets.Single(t => t.Name == McpInspectedName);

        var inspectedActions = metrics.RouteActions(McpBench.InspectedRoute);
        var inspectedMcp = metrics.RouteMcpActions(McpBench.InspectedRoute);
        var allowedCalls = inspectedMcp.GetValueOrDefault($"tools/call/{McpBench.Tool}/allow");
        foreach (var (key, count) in inspectedMcp.Where(kv => kv.Key != $"tools/call/{McpBench.Tool}/allow"))
            problems.Add($"{McpBench.InspectedRoute}: the gateway counted {count:N0} MCP actions {key} (mcp_method/tool/decision); all should be tools/call/{McpBench.Tool}/allow");
        foreach (var (key, count) in inspectedActions.Where(kv => kv.Key != "mcp/allow"))
            problems.Add($"{McpBench.InspectedRoute}: the gateway counted {count:N0} actions {key} (kind/decision); all should be mcp/allow");
        if (allowedCalls < inspected.Answered)
            problems.Add($"{McpBench.InspectedRoute}: the gateway allowed {allowedCalls:N0} tools/call actions, fewer than the {inspected.Answered:N0} responses the load generators got");

        var rawActions = metrics.RouteActions(McpBench.RawRoute);
        foreach (var (key, count) in rawActions.Where(kv => kv.Key != "http/allow"))
            problems.Add($"{McpBench.RawRoute}: the gateway counted {count:N0} actions {key} (kind/decision); all should be http/allow");
        if (rawActions.GetValueOrDefault("http/allow") < raw.Answered)
            problems.Add($"{McpBench.RawRoute}: the gateway allowed {rawActions.GetValueOrDefault("http/allow"):N0} actions, fewer than the {raw.Answered:N0} responses the load generators got");

        var tunnel = mcpTargets.Single(t => t.Name == McpTunnelName);
        var tunnelMcp = metrics.RouteMcpActions(TunnelBench.McpRoute);
        foreach (var (key, count) in tunnelMcp.Where(kv => kv.Key != $"tools/call/{McpBench.Tool}/allow"))
            problems.Add($"{TunnelBench.McpRoute}: the gateway counted {count:N0} MCP actions {key} (mcp_method/tool/decision); all should be tools/call/{McpBench.Tool}/allow");
        foreach (var (key, count) in metrics.RouteActions(TunnelBench.McpRoute).Where(kv => kv.Key != "mcp/allow"))
            problems.Add($"{TunnelBench.McpRoute}: the gateway counted {count:N0} actions {key} (kind/decision); all should be mcp/allow");
        if (tunnelMcp.GetValueOrDefault($"tools/call/{McpBench.Tool}/allow") < tunnel.Answered)
            problems.Add($"{TunnelBench.McpRoute}: the gateway allowed {tunnelMcp.GetValueOrDefault($"tools/call/{McpBench.Tool}/allow"):N0} tools/call actions, "
                + $"fewer than the {tunnel.Answered:N0} responses the load generators got");

        var answered = mcpTargets.Sum(t => t.Answered);
        if (echoCalls < answered)
            problems.Add($"the MCP server ran echo {echoCalls:N0} times, fewer than the {answered:N0} MCP responses the load generators got: some were errors");
    }

    /// <summary>
    /// The tunnel's checks: every response that came through the tunnel (MCP preflight, warm-up, rounds, fixed rate,
    /// and the uploads) is counted <c>forwarded</c> by <c>agentperimeter_tunnel_requests_total</c>; other results
    /// (failed: the agent went away mid-request, as wrk does at the end of a run) are notes up to the requests that can
    /// have been in flight then, problems beyond; every upload answered with exactly its length, the server counted
    /// every one, and each upload route's actions are allowed HTTP actions.
    /// </summary>
    private static void CheckTunnelCounts(TunnelCheck check, GatewayMetrics metrics, List<string> problems, List<string> notes)
    {
        var forwarded = check.TunnelRequests.GetValueOrDefault("forwarded");
        if (forwarded < check.TunnelResponses)
            problems.Add($"tunnel {TunnelBench.Tunnel}: agentperimeter_tunnel_requests_total counted {forwarded:N0} forwarded requests, "
                + $"fewer than the {check.TunnelResponses:N0} responses that came through it");
        var others = check.TunnelRequests.Where(kv => kv.Key != "forwarded" && kv.Value > 0).ToList();
        if (others.Count > 0)
        {
            var line = $"tunnel {TunnelBench.Tunnel}: agentperimeter_tunnel_requests_total also counted "
                + string.Join(", ", others.Select(kv => $"{kv.Value:N0} {kv.Key}"));
            if (others.Sum(kv => kv.Value) > check.InFlightBound)
                problems.Add(line + $", more than the {check.InFlightBound:N0} requests that can have been cut off in flight when load runs ended");
            else
                notes.Add(line + $" (at most {check.InFlightBound:N0} requests can have been cut off in flight when load runs ended)");
        }

        long uploads = check.Uploads.Sum(u => (long)u.Answered);
        if (check.ServerUploads < uploads || check.ServerUploadBytes != check.ServerUploads * TunnelBench.UploadBytes)
            problems.Add($"the MCP server read {check.ServerUploadBytes:N0} bytes in {check.ServerUploads:N0} uploads, for {uploads:N0} answered uploads "
                + $"of {TunnelBench.UploadBytes:N0} bytes each");
        foreach (var target in check.Uploads)
        {
            if (target.BytesConfirmed != (long)target.Answered * TunnelBench.UploadBytes)
                problems.Add($"upload {target.Name}: the server confirmed {target.BytesConfirmed:N0} bytes for {target.Answered:N0} uploads of {TunnelBench.UploadBytes:N0}");
        }
        foreach (var (route, name) in new[] { (TunnelBench.UploadDirectRoute, UploadDirectName), (TunnelBench.UploadTunnelRoute, UploadTunnelName) })
        {
            var actions = metrics.RouteActions(route);
            foreach (var (key, count) in actions.Where(kv => kv.Key != "http/allow"))
                problems.Add($"{route}: the gateway counted {count:N0} actions {key} (kind/decision); all should be http/allow");
            var target = check.Uploads.Single(u => u.Name == name);
            if (actions.GetValueOrDefault("http/allow") < target.Answered)
                problems.Add($"{route}: the gateway allowed {actions.GetValueOrDefault("http/allow"):N0} actions for {target.Answered:N0} answered uploads");
        }
    }

    /// <summary>
    /// The limits gateways must have made one rate-limit decision per action, every one allowed: at least as many
    /// decisions as the load generators got responses (else some responses skipped the limits), and not many more (only
    /// requests still in flight when a wrk or hey run ended may be missing from the responses). The main gateway has no limits.
    /// </summary>
    private static void CheckRateLimitCounts(BenchSettings settings, List<Target> targets, GatewayMetrics main, RateLimitCheck check, List<string> problems)
    {
        if (main.RateLimitDecisionCount > 0)
            problems.Add($"{GatewayName}: made {main.RateLimitDecisionCount:N0} rate-limit decisions; the reference gateway should have no limits "
                + "(does the shipped config now limit work type 'build'?)");
        foreach (var (name, m) in new[] { (LimitsMemoryName, check.MemoryMetrics), (LimitsRedisName, check.RedisMetrics) })
        {
            var target = targets.Single(t => t.Name == name);
            foreach (var (result, count) in m.RateLimitNotAllowed)
                problems.Add($"{name}: {count:N0} rate-limit decisions '{result}'; every one should be allowed"
                    + (result == "unavailable" ? " ('unavailable': the limit store failed or did not answer within Gateway:Redis:TimeoutMilliseconds, "
                        + "50 ms by default, and the closed failure mode refused with 503)" : ""));
            if (m.RateLimitStoreErrors > 0)
                problems.Add($"{name}: {m.RateLimitStoreErrors:N0} rate-limit store errors");
            long answered = target.Answered + 1; // + the preflight request
            int wrkRuns = settings.Rounds + ((target.WarmupSeconds ?? settings.WarmupSeconds) > 0 ? 1 : 0);
            long inFlight = (long)wrkRuns * settings.Connections + settings.FixedWorkers;
            var decisions = m.RateLimitDecisionCount;
            if (decisions < answered)
                problems.Add($"{name}: {decisions:N0} rate-limit decisions for {answered:N0} responses; some responses were not rate-limit checked");
            else if (decisions > answered + inFlight)
                problems.Add($"{name}: {decisions:N0} rate-limit decisions for {answered:N0} responses, more than the "
                    + $"{inFlight:N0} requests that can have been in flight when load runs ended");
        }
        if (check.RedisDecisions <= 0 || check.RedisCommands.ScriptCalls == 0)
            problems.Add($"{LimitsRedisName}: redis ran {check.RedisCommands.ScriptCalls:N0} script calls for {check.RedisDecisions:N0} rate-limit decisions; "
                + "the limits did not go through redis");
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

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    public static void Log(string message) =>
        Console.WriteLine($"[bench {DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {message}");
}
