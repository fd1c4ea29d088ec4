namespace AgentPerimeter.Benchmarks;

/// <summary>What the run needs before it starts anything: wrk, hey, redis-server and the Release builds of the gateway and connector.</summary>
internal static class Prerequisites
{
    /// <summary>Throws, saying how to fix it, if anything is missing; returns the redis-server binary to run.</summary>
    public static string Check(BenchSettings settings)
    {
        foreach (var tool in new[] { "wrk", "hey" })
        {
            if (FindOnPath(tool) is null)
                throw new InvalidOperationException($"'{tool}' is not on PATH; the benchmark needs wrk and hey.");
        }
        var redisServer = FindRedisServer(settings.RedisServer)
            ?? throw new InvalidOperationException($"'{settings.RedisServer}' not found; the rate-limit targets need redis-server "
                + "(Debian package redis-server, or set BENCH_REDIS_SERVER).");
        if (!File.Exists(settings.GatewayDll))
            throw new InvalidOperationException($"No gateway build at {settings.GatewayDll}; run: dotnet build -c Release src/AgentPerimeter.Gateway");
        if (!File.Exists(settings.ConnectorDll))
            throw new InvalidOperationException($"No connector build at {settings.ConnectorDll}; run: dotnet build -c Release src/AgentPerimeter.Connector");
        return redisServer;
    }

    /// <summary>A path is taken as it is; a bare name is looked up on PATH.</summary>
    private static string? FindRedisServer(string configured) =>
        configured.Contains('/', StringComparison.Ordinal)
            ? (File.Exists(configured) ? configured : null)
            : FindOnPath(configured);

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}
