using System.Globalization;

namespace AgentPerimeter.Benchmarks;

/// <summary>What to run, from environment variables (BENCH_*) and <c>--repo</c> / <c>--output</c>.</summary>
internal sealed record BenchSettings
{
    public const int DefaultWarmupSeconds = 20;
    public const int DefaultRounds = 3;
    public const int DefaultRoundSeconds = 10;
    public const int DefaultFixedSeconds = 10;
    public const int DefaultMcpWarmupSeconds = 10;
    public const int DefaultLimitsWarmupSeconds = 10;

    public required string RepoRoot { get; init; }
    public required string OutputPath { get; init; }
    public required string GatewayDll { get; init; }

    /// <summary>The gateway build came from BENCH_GATEWAY_DLL, not this checkout's Release build, so this checkout's commit may not be what was measured.</summary>
    public bool GatewayDllFromEnvironment { get; init; }

    /// <summary>The connector's Release build (BENCH_CONNECTOR_DLL), for the tunnel targets.</summary>
    public required string ConnectorDll { get; init; }

    /// <summary>wrk warm-up per target before the measured rounds (BENCH_WARMUP).</summary>
    public int WarmupSeconds { get; init; } = DefaultWarmupSeconds;

    /// <summary>
    /// wrk warm-up per MCP target (BENCH_MCP_WARMUP; default 10 s, or BENCH_WARMUP if that is shorter). Shorter
    /// than the HTTP warm-up: the gateway is already warm from the HTTP targets, only the MCP paths are new.
    /// </summary>
    public int McpWarmupSeconds { get; init; } = DefaultMcpWarmupSeconds;

    /// <summary>
    /// wrk warm-up of each rate-limit gateway, in-memory and Redis (BENCH_LIMITS_WARMUP; default 10 s, or BENCH_WARMUP
    /// if that is shorter). Both get the same, so their ratio is fair; shorter than the main gateway's to keep the
    /// run under ~8 minutes.
    /// </summary>
    public int LimitsWarmupSeconds { get; init; } = DefaultLimitsWarmupSeconds;

    /// <summary>The redis-server binary for the Redis rate-limit gateway (BENCH_REDIS_SERVER; default redis-server on PATH).</summary>
    public string RedisServer { get; init; } = "redis-server";

    /// <summary>Interleaved measured rounds (BENCH_ROUNDS); each target runs once per round.</summary>
    public int Rounds { get; init; } = DefaultRounds;

    /// <summary>Length of one measured wrk run (BENCH_SECONDS).</summary>
    public int RoundSeconds { get; init; } = DefaultRoundSeconds;

    /// <summary>wrk connections (BENCH_CONNECTIONS); wrk always runs one thread.</summary>
    public int Connections { get; init; } = 32;

    /// <summary>Length of each fixed-rate hey run (BENCH_FIXED_SECONDS).</summary>
    public int FixedSeconds { get; init; } = DefaultFixedSeconds;

    /// <summary>hey workers for the fixed-rate run; each is limited to FixedRate / FixedWorkers req/s.</summary>
    public int FixedWorkers { get; init; } = 10;

    /// <summary>Offered load of the fixed-rate run in req/s (BENCH_FIXED_RATE).</summary>
    public int FixedRate { get; init; } = 1000;

    /// <summary>Host bare YARP in this process (BENCH_YARP=inproc) instead of its own process (default).</summary>
    public bool YarpInProcess { get; init; }

    public int FixedQpsPerWorker => Math.Max(1, FixedRate / FixedWorkers);

    /// <summary>
    /// Requests that can still be in flight, and so be cut off, when the load runs of a target end: wrk's connections
    /// for each wrk run (the warm-up, if any, and each round), plus hey's workers for the fixed-rate run.
    /// </summary>
    public long RequestsInFlightBound(int warmupSeconds) =>
        (long)(Rounds + (warmupSeconds > 0 ? 1 : 0)) * Connections + FixedWorkers;

    /// <summary>Shorter than a real run: the report says so at the top.</summary>
    public bool IsSmoke => WarmupSeconds < DefaultWarmupSeconds || Rounds < DefaultRounds
        || RoundSeconds < DefaultRoundSeconds || FixedSeconds < DefaultFixedSeconds || McpWarmupSeconds < DefaultMcpWarmupSeconds
        || LimitsWarmupSeconds < DefaultLimitsWarmupSeconds;

    public static BenchSettings Load(string[] args)
    {
        string? repo = null, output = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--repo" when i + 1 < args.Length: repo = args[++i]; break;
                case "--output" when i + 1 < args.Length: output = args[++i]; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: AgentPerimeter.Benchmarks [--repo DIR] [--output FILE]");
            }
        }

        repo = Path.GetFullPath(repo ?? FindRepoRoot()
            ?? throw new ArgumentException("Cannot find the repository root (a folder with Directory.Packages.props and config/perimeter.json); pass --repo DIR."));
        if (!File.Exists(Path.Combine(repo, "config", "perimeter.json")))
            throw new ArgumentException($"'{repo}' has no config/perimeter.json; pass the repository root with --repo.");

        output ??= Environment.GetEnvironmentVariable("BENCH_OUTPUT") ?? Path.Combine("docs", "benchmarks.md");
        var gatewayDllVariable = Environment.GetEnvironmentVariable("BENCH_GATEWAY_DLL");
        var gatewayDll = gatewayDllVariable
            ?? Path.Combine(repo, "src", "AgentPerimeter.Gateway", "bin", "Release", "net10.0", "AgentPerimeter.Gateway.dll");

        var connectorDll = Environment.GetEnvironmentVariable("BENCH_CONNECTOR_DLL")
            ?? Path.Combine(repo, "src", "AgentPerimeter.Connector", "bin", "Release", "net10.0", "agentperimeter-connector.dll");

        var yarpMode = Environment.GetEnvironmentVariable("BENCH_YARP") ?? "process";
        if (yarpMode is not ("process" or "inproc"))
            throw new ArgumentException($"BENCH_YARP: '{yarpMode}' is neither 'process' nor 'inproc'.");

        var warmup = Int("BENCH_WARMUP", DefaultWarmupSeconds, min: 0);
        return new BenchSettings
        {
            RepoRoot = repo,
            OutputPath = Path.GetFullPath(Path.Combine(repo, output)),
            GatewayDll = Path.GetFullPath(Path.Combine(repo, gatewayDll)),
            GatewayDllFromEnvironment = gatewayDllVariable is not null,
            ConnectorDll = Path.GetFullPath(Path.Combine(repo, connectorDll)),
            WarmupSeconds = warmup,
            McpWarmupSeconds = Int("BENCH_MCP_WARMUP", Math.Min(warmup, DefaultMcpWarmupSeconds), min: 0),
            LimitsWarmupSeconds = Int("BENCH_LIMITS_WARMUP", Math.Min(warmup, DefaultLimitsWarmupSeconds), min: 0),
            RedisServer = Environment.GetEnvironmentVariable("BENCH_REDIS_SERVER") is { Length: > 0 } redis ? redis : "redis-server",
            Rounds = Int("BENCH_ROUNDS", DefaultRounds, min: 1),
            RoundSeconds = Int("BENCH_SECONDS", DefaultRoundSeconds, min: 1),
            Connections = Int("BENCH_CONNECTIONS", 32, min: 1),
            FixedSeconds = Int("BENCH_FIXED_SECONDS", DefaultFixedSeconds, min: 1),
            FixedRate = Int("BENCH_FIXED_RATE", 1000, min: 10),
            YarpInProcess = yarpMode == "inproc",
        };
    }

    private static int Int(string name, int fallback, int min)
    {
        var raw = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(raw))
            return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new ArgumentException($"{name}: '{raw}' is not a whole number >= {min}.");
        return value;
    }

    private static string? FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props"))
                    && File.Exists(Path.Combine(dir.FullName, "config", "perimeter.json")))
                    return dir.FullName;
            }
        }
        return null;
    }
}
