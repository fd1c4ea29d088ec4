using System.Runtime.InteropServices;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// Starts the upstream, bare YARP and the gateway, drives wrk and hey against them, and writes the
/// report. Every child is killed at the end, also on failure or Ctrl+C.
/// </summary>
internal static class BenchmarkRunner
{
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

    /// <summary>The run, in order: start everything, preflight, the disk's idle fsync latency, load, check what the servers counted, report.</summary>
    private static async Task<int> RunCoreAsync(BenchSettings settings, CancellationToken ct)
    {
        var redisServer = Prerequisites.Check(settings);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        LogSettings(settings);
        await using var servers = await BenchServers.StartAsync(settings, redisServer, http, ct).ConfigureAwait(false);
        var targets = BenchTargets.Create(settings, servers);
        var preflight = await Preflight.RunAsync(http, servers, targets, ct).ConfigureAwait(false);
        var loadBefore = CpuAccounting.LoadAverage();
        var disk = await MeasureDiskFsyncAsync(servers, ct).ConfigureAwait(false);

        var findings = new Findings();
        var (otherCpu, egressMeasured) = await MeasureAsync(http, settings, servers, targets, findings, ct).ConfigureAwait(false);
        var (metrics, mcp, tunnel, rateLimits) = await VerifyAsync(http, settings, servers, targets, preflight, findings, ct).ConfigureAwait(false);
        var egress = EgressCheck.Collect(servers, targets, preflight, egressMeasured, metrics);
        egress.Verify(findings);
        var durability = await DurabilityCheck.CollectAsync(http, servers, disk, ct).ConfigureAwait(false);
        durability.Verify(targets.Http, metrics, findings);

        var report = Report.Build(new ReportData(
            settings, targets.Http, targets.Mcp, mcp, rateLimits, tunnel, durability, egress,
            servers.Gateway.Rss, servers.YarpRss, metrics,
            File.Exists(servers.AuditLog) ? new FileInfo(servers.AuditLog).Length : 0,
            await MachineInfo.CollectAsync(settings.RepoRoot, ct).ConfigureAwait(false),
            loadBefore, otherCpu,
            findings.Problems, findings.Notes));
        await WriteReportAsync(settings, report, ct).ConfigureAwait(false);
        return await ExitCodeAsync(findings).ConfigureAwait(false);
    }

    private static void LogSettings(BenchSettings settings) =>
        BenchLog.Write($"settings: warm-up {settings.WarmupSeconds} s (MCP {settings.McpWarmupSeconds} s, rate-limit gateways {settings.LimitsWarmupSeconds} s), "
            + $"{settings.Rounds} round(s) x {settings.RoundSeconds} s, "
            + $"{settings.Connections} connections, fixed rate {settings.FixedRate} req/s for {settings.FixedSeconds} s, "
            + $"bare YARP {(settings.YarpInProcess ? "in-process" : "in its own process")}");

    /// <summary>
    /// Before any load, with every server started and idle: fsync latency on the filesystem of the gateways' data
    /// directories (they are all in the run's temporary directory), the floor under the fsync-mode gateway's latency.
    /// </summary>
    private static async Task<DiskFsync> MeasureDiskFsyncAsync(BenchServers servers, CancellationToken ct)
    {
        BenchLog.Write($"disk fsync: {DiskFsync.DefaultIterations} x (append {DiskFsync.WriteBytes} bytes, fsync) in the run's temporary directory");
        var disk = await Task.Run(() => DiskFsync.Measure(servers.Temp.FullName, ct), ct).ConfigureAwait(false);
        BenchLog.Write($"disk fsync ({disk.FileSystem}): p50 {disk.P50Ms:F2} ms, p99 {disk.P99Ms:F2} ms, max {disk.MaxMs:F2} ms");
        return disk;
    }

    /// <summary>
    /// The measured part: the HTTP targets (rounds, then fixed rate except the upstream), the MCP targets likewise, the
    /// uploads, then the egress measurements. Returns the share of the machine's CPU other processes used meanwhile, and
    /// the egress measurements.
    /// </summary>
    private static async Task<(double? OtherCpu, EgressMeasurements Egress)> MeasureAsync(HttpClient http, BenchSettings settings, BenchServers servers,
        BenchTargets targets, Findings findings, CancellationToken ct)
    {
        var cpu = new CpuAccounting(servers.ChildPids);
        var load = new LoadPhases(settings, servers.Gateway.Token, findings);

        await load.RoundsAsync(targets.Http, settings.WarmupSeconds, ct).ConfigureAwait(false);
        foreach (var target in targets.Http.Where(t => t.Name != TargetNames.Upstream))
            await load.FixedRateAsync(target, ct).ConfigureAwait(false);

        await load.RoundsAsync(targets.Mcp, settings.McpWarmupSeconds, ct).ConfigureAwait(false);
        foreach (var target in targets.Mcp)
            await load.FixedRateAsync(target, ct).ConfigureAwait(false);

        await TunnelBench.RunUploadsAsync(targets.Uploads, servers.Gateway.Token, findings.Problems, ct).ConfigureAwait(false);
        var egress = await EgressBench.RunAsync(http, servers, targets, findings.Problems, ct).ConfigureAwait(false);

        var otherCpu = cpu.OtherShare();
        if (otherCpu > Thresholds.OtherCpuWarning)
            findings.Notes.Add($"other processes used {otherCpu:P0} of the machine's CPU during the measurement, so the numbers are disturbed; "
                + "rerun on a quiet machine");
        return (otherCpu, egress);
    }

    /// <summary>What the gateways, the MCP server and Redis counted, checked against what the load generators got.</summary>
    private static async Task<(GatewayMetrics Metrics, McpCheck Mcp, TunnelCheck Tunnel, RateLimitCheck RateLimits)> VerifyAsync(
        HttpClient http, BenchSettings settings, BenchServers servers, BenchTargets targets, PreflightResult preflight, Findings findings, CancellationToken ct)
    {
        var metrics = await GatewayMetrics.ScrapeAsync(http, servers.Gateway.Admin, ct).ConfigureAwait(false);
        var server = await McpServerStats.FetchAsync(http, servers.McpUri, ct).ConfigureAwait(false);
        var mcp = new McpCheck(preflight.McpContentType, preflight.McpAudit, server.EchoCalls, settings.RequestsInFlightBound(settings.McpWarmupSeconds));
        mcp.Verify(targets.Mcp, metrics, findings);
        var tunnel = await TunnelCheck.CollectAsync(http, settings, servers, targets, preflight, server, metrics, ct).ConfigureAwait(false);
        tunnel.Verify(metrics, findings);
        var rateLimits = await RateLimitCheck.CollectAsync(http, servers, preflight, ct).ConfigureAwait(false);
        rateLimits.Verify(settings, targets.Http, metrics, findings);
        servers.ReportExited(findings);
        return (metrics, mcp, tunnel, rateLimits);
    }

    private static async Task WriteReportAsync(BenchSettings settings, string report, CancellationToken ct)
    {
        Console.WriteLine();
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(settings.OutputPath)!);
        await File.WriteAllTextAsync(settings.OutputPath, report, ct).ConfigureAwait(false);
        BenchLog.Write($"wrote {Path.GetRelativePath(settings.RepoRoot, settings.OutputPath)}");
    }

    /// <summary>0 whether or not a target is met; 1 if the run had problems, listed on standard error.</summary>
    private static async Task<int> ExitCodeAsync(Findings findings)
    {
        if (findings.Problems.Count == 0)
            return 0;
        await Console.Error.WriteLineAsync("the run had errors (see the report's Problems section):" + Environment.NewLine
            + string.Join(Environment.NewLine, findings.Problems.Select(p => "  - " + p))).ConfigureAwait(false);
        return 1;
    }
}
