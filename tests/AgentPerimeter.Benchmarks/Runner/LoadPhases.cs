namespace AgentPerimeter.Benchmarks;

/// <summary>
/// Drives wrk and hey against targets: warm-ups and interleaved rounds (wrk), and the fixed-rate run (hey). Every
/// response counts towards the target's <see cref="Target.Answered"/>; non-2xx answers are problems, socket errors notes.
/// </summary>
internal sealed class LoadPhases(BenchSettings settings, string token, Findings findings)
{
    /// <summary>Warm-up of each target, then interleaved measured rounds; the order rotates each round.</summary>
    public async Task RoundsAsync(IReadOnlyList<Target> targets, int warmupSeconds, CancellationToken ct)
    {
        foreach (var target in targets)
            await WarmUpAsync(target, target.WarmupSeconds ?? warmupSeconds, ct).ConfigureAwait(false);

        for (int round = 0; round < settings.Rounds; round++)
        {
            // Interleaved, and the order rotates each round, so drift (thermal, page cache, the audit
            // log growing) does not always favour the same target.
            for (int i = 0; i < targets.Count; i++)
                await RoundAsync(targets[(i + round) % targets.Count], round, ct).ConfigureAwait(false);
        }
    }

    public async Task FixedRateAsync(Target target, CancellationToken ct)
    {
        BenchLog.Write($"fixed rate {target.Name}: hey -z {settings.FixedSeconds}s -c {settings.FixedWorkers} -q {settings.FixedQpsPerWorker}");
        var result = await target.HeyAsync(token, settings, ct).ConfigureAwait(false);
        target.Fixed = result;
        target.Answered += result.Responses;
        if (result.Non2xx > 0 || result.Errors > 0)
            findings.Problems.Add($"{target.Name} fixed rate: {result.Non2xx} non-2xx responses, {result.Errors} errors");
        BenchLog.Write($"fixed rate {target.Name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms");
    }

    private async Task WarmUpAsync(Target target, int seconds, CancellationToken ct)
    {
        if (seconds <= 0)
            return;
        BenchLog.Write($"warm-up {target.Name}: {seconds} s");
        var warm = await target.WrkAsync(token, seconds, settings.Connections, ct).ConfigureAwait(false);
        Record(target, "warm-up", warm);
    }

    private async Task RoundAsync(Target target, int round, CancellationToken ct)
    {
        var result = await target.WrkAsync(token, settings.RoundSeconds, settings.Connections, ct).ConfigureAwait(false);
        target.Rounds.Add(result);
        Record(target, $"round {round + 1}", result);
        BenchLog.Write($"round {round + 1}/{settings.Rounds} {target.Name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms");
    }

    private void Record(Target target, string phase, WrkResult result)
    {
        target.Answered += result.Requests;
        if (result.Non2xx > 0)
            findings.Problems.Add($"{target.Name} {phase}: {result.Non2xx} non-2xx responses of {result.Requests}");
        if (result.SocketErrors > 0)
            findings.Notes.Add($"{target.Name} {phase}: wrk counted {result.SocketErrors} socket errors (connect/read/write/timeout)");
    }
}
