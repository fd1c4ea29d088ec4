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

    public double MedianRequestsPerSecond => Stats.Median(Rounds.Select(r => r.RequestsPerSecond));

    public double MedianP50Ms => Stats.Median(Rounds.Select(r => r.P50Ms));

    public double MedianP99Ms => Stats.Median(Rounds.Select(r => r.P99Ms));

    /// <summary>CPU time of the <paramref name="process"/>-th of <see cref="CpuProcesses"/> per response this target answered, in µs.</summary>
    public double CpuMicrosPerResponse(int process) =>
        Answered > 0 && process < LoadCpu.Length ? LoadCpu[process].TotalMicroseconds / Answered : double.NaN;

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
