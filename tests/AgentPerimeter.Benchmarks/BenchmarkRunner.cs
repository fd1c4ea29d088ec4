using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AgentPerimeter.Benchmarks;

/// <summary>A load target: a base URL (requests go to <c>api/repos</c>) and, for child processes, an RSS sampler.</summary>
internal sealed class Target(string name, Uri baseUri, RssSampler? rss)
{
    public string Name { get; } = name;
    public Uri Url { get; } = new(baseUri, "api/repos");
    public RssSampler? Rss { get; } = rss;
    public List<WrkResult> Rounds { get; } = [];
    public HeyResult? Fixed { get; set; }

    public Task<T> LoadAsync<T>(Func<Task<T>> load) => Rss is null ? load() : Rss.MeasureAsync(load);
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
        if (!File.Exists(settings.GatewayDll))
            throw new InvalidOperationException($"No gateway build at {settings.GatewayDll}; run: dotnet build -c Release src/AgentPerimeter.Gateway");

        var dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        var temp = Directory.CreateTempSubdirectory("agentperimeter-bench-");
        WebApplication? upstream = null, yarpInProcess = null;
        ChildProcess? yarpChild = null, gateway = null;
        RssSampler? gatewayRss = null, yarpRss = null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            Log($"settings: warm-up {settings.WarmupSeconds} s, {settings.Rounds} round(s) x {settings.RoundSeconds} s, "
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
                (yarpChild, yarpUri) = await StartYarpChildAsync(dotnet, upstreamUri, temp.FullName, ct).ConfigureAwait(false);
                yarpRss = new RssSampler(yarpChild.Pid);
            }
            Log($"bare YARP on {yarpUri}");

            var (gatewayProcess, agentUri, adminUri) = await StartGatewayAsync(settings, dotnet, upstreamUri, temp.FullName, http, ct).ConfigureAwait(false);
            gateway = gatewayProcess;
            Log($"gateway (pid {gateway.Pid}) agents on {agentUri}, admin on {adminUri}");
            var token = await MintTokenAsync(http, adminUri, ct).ConfigureAwait(false);
            gatewayRss = new RssSampler(gateway.Pid);

            var targets = new List<Target>
            {
                new(UpstreamName, upstreamUri, null),
                new(YarpName, yarpUri, yarpRss),
                new(GatewayName, agentUri, gatewayRss),
            };
            foreach (var target in targets)
                await PreflightAsync(http, target, token, ct).ConfigureAwait(false);

            var problems = new List<string>();
            var notes = new List<string>();
            var loadBefore = CpuAccounting.LoadAverage();
            var cpu = yarpChild is null ? new CpuAccounting(gateway.Pid) : new CpuAccounting(gateway.Pid, yarpChild.Pid);

            if (settings.WarmupSeconds > 0)
            {
                foreach (var target in targets)
                {
                    Log($"warm-up {target.Name}: {settings.WarmupSeconds} s");
                    var warm = await target.LoadAsync(() => Wrk.RunAsync(target.Url, token, settings.WarmupSeconds, settings.Connections, ct)).ConfigureAwait(false);
                    Check(target, "warm-up", warm, problems, notes);
                }
            }

            for (int round = 0; round < settings.Rounds; round++)
            {
                // Interleaved, and the order rotates each round, so drift (thermal, page cache, the audit
                // log growing) does not always favour the same target.
                for (int i = 0; i < targets.Count; i++)
                {
                    var target = targets[(i + round) % targets.Count];
                    var result = await target.LoadAsync(() => Wrk.RunAsync(target.Url, token, settings.RoundSeconds, settings.Connections, ct)).ConfigureAwait(false);
                    target.Rounds.Add(result);
                    Check(target, $"round {round + 1}", result, problems, notes);
                    Log($"round {round + 1}/{settings.Rounds} {target.Name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms");
                }
            }

            foreach (var target in targets.Where(t => t.Name != UpstreamName))
            {
                Log($"fixed rate {target.Name}: hey -z {settings.FixedSeconds}s -c {settings.FixedWorkers} -q {settings.FixedQpsPerWorker}");
                var result = await target.LoadAsync(() => Hey.RunAsync(target.Url, token, settings.FixedSeconds, settings.FixedWorkers, settings.FixedQpsPerWorker, ct)).ConfigureAwait(false);
                target.Fixed = result;
                if (result.Non2xx > 0 || result.Errors > 0)
                    problems.Add($"{target.Name} fixed rate: {result.Non2xx} non-2xx responses, {result.Errors} errors");
                Log($"fixed rate {target.Name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms");
            }

            var otherCpu = cpu.OtherShare();
            if (otherCpu > OtherCpuWarning)
                notes.Add($"other processes used {otherCpu:P0} of the machine's CPU during the measurement, so the numbers are disturbed; "
                    + "rerun on a quiet machine");
            var metrics = await GatewayMetrics.ScrapeAsync(http, adminUri, ct).ConfigureAwait(false);
            if (gateway.HasExited)
                problems.Add("the gateway exited during the run:" + Environment.NewLine + gateway.Tail());
            var auditLog = Path.Combine(temp.FullName, "data", "audit.jsonl");

            var report = Report.Build(new ReportData(
                settings, targets, gatewayRss, yarpRss, metrics,
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
            if (gatewayRss is not null)
                await gatewayRss.DisposeAsync().ConfigureAwait(false);
            if (yarpRss is not null)
                await yarpRss.DisposeAsync().ConfigureAwait(false);
            if (gateway is not null)
                await gateway.DisposeAsync().ConfigureAwait(false);
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

    private static void Check(Target target, string phase, WrkResult result, List<string> problems, List<string> notes)
    {
        if (result.Non2xx > 0)
            problems.Add($"{target.Name} {phase}: {result.Non2xx} non-2xx responses of {result.Requests}");
        if (result.SocketErrors > 0)
            notes.Add($"{target.Name} {phase}: wrk counted {result.SocketErrors} socket errors (connect/read/write/timeout)");
    }

    private static async Task<(ChildProcess Child, Uri Uri)> StartYarpChildAsync(string dotnet, Uri upstream, string workDir, CancellationToken ct)
    {
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var benchDll = Path.Combine(AppContext.BaseDirectory, "AgentPerimeter.Benchmarks.dll");
        var child = ChildProcess.Start(YarpName, dotnet, [benchDll, Servers.ServeYarpCommand, upstream.ToString()], workDir, line =>
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
            throw new InvalidOperationException($"bare YARP did not start:{Environment.NewLine}{tail}");
        }
        return (child, await listening.Task.ConfigureAwait(false));
    }

    private static async Task<(ChildProcess Child, Uri Agent, Uri Admin)> StartGatewayAsync(
        BenchSettings settings, string dotnet, Uri upstream, string temp, HttpClient http, CancellationToken ct)
    {
        // The shipped configuration, copied so the run never touches the repository's config/ or data/.
        var configDir = Path.Combine(temp, "config");
        var dataDir = Path.Combine(temp, "data");
        Directory.CreateDirectory(configDir);
        Directory.CreateDirectory(dataDir);
        foreach (var file in Directory.GetFiles(Path.Combine(settings.RepoRoot, "config"), "*.json"))
            File.Copy(file, Path.Combine(configDir, Path.GetFileName(file)));

        int agentPort = FreePort(), adminPort = FreePort();
        while (adminPort == agentPort)
            adminPort = FreePort();
        var agent = new Uri($"http://127.0.0.1:{agentPort}/");
        var admin = new Uri($"http://127.0.0.1:{adminPort}/");
        var child = ChildProcess.Start(GatewayName, dotnet,
        [
            settings.GatewayDll,
            "--config-dir", configDir,
            $"--Gateway:Listeners:Agent=http://127.0.0.1:{agentPort}",
            $"--Gateway:Listeners:Admin=http://127.0.0.1:{adminPort}",
            $"--Gateway:DataDirectory={dataDir}",
            "--Gateway:Logging:Console=false",
            $"--ReverseProxy:Clusters:demo:Destinations:demo-1:Address={upstream}",
        ], temp);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (child.HasExited || DateTime.UtcNow > deadline)
            {
                var tail = child.Tail();
                await child.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"the gateway did not become ready:{Environment.NewLine}{tail}");
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
