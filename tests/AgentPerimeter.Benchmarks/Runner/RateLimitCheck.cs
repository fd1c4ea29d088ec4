namespace AgentPerimeter.Benchmarks;

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

    /// <summary>Reads both limits gateways' metrics and Redis's command counts at the end of the run.</summary>
    public static async Task<RateLimitCheck> CollectAsync(HttpClient http, BenchServers servers, PreflightResult preflight, CancellationToken ct)
    {
        var memoryMetrics = await GatewayMetrics.ScrapeAsync(http, servers.MemoryGateway.Admin, ct).ConfigureAwait(false);
        var redisMetrics = await GatewayMetrics.ScrapeAsync(http, servers.RedisGateway.Admin, ct).ConfigureAwait(false);
        var redisCommands = (await RedisBench.CommandStatsAsync(servers.RedisPort, ct).ConfigureAwait(false)).Since(preflight.RedisCommandsBefore);
        return new RateLimitCheck(servers.RedisVersion, memoryMetrics, redisMetrics, redisCommands,
            redisMetrics.RateLimitDecisionCount - preflight.RedisDecisionsBefore,
            servers.MemoryGateway.Rss, servers.RedisGateway.Rss);
    }

    /// <summary>
    /// The limits gateways must have made one rate-limit decision per action, every one allowed: at least as many
    /// decisions as the load generators got responses (else some responses skipped the limits), and not many more (only
    /// requests still in flight when a wrk or hey run ended may be missing from the responses). The main gateway has no limits.
    /// </summary>
    public void Verify(BenchSettings settings, IReadOnlyList<Target> targets, GatewayMetrics main, Findings findings)
    {
        if (main.RateLimitDecisionCount > 0)
            findings.Problems.Add($"{TargetNames.Gateway}: made {main.RateLimitDecisionCount:N0} rate-limit decisions; the reference gateway should have no limits "
                + "(does the shipped config now limit work type 'build'?)");
        VerifyLimitsGateway(settings, targets.Single(t => t.Name == TargetNames.LimitsMemory), MemoryMetrics, findings);
        VerifyLimitsGateway(settings, targets.Single(t => t.Name == TargetNames.LimitsRedis), RedisMetrics, findings);
        if (RedisDecisions <= 0 || RedisCommands.ScriptCalls == 0)
            findings.Problems.Add($"{TargetNames.LimitsRedis}: redis ran {RedisCommands.ScriptCalls:N0} script calls for {RedisDecisions:N0} rate-limit decisions; "
                + "the limits did not go through redis");
    }

    private static void VerifyLimitsGateway(BenchSettings settings, Target target, GatewayMetrics m, Findings findings)
    {
        var name = target.Name;
        foreach (var (result, count) in m.RateLimitNotAllowed)
            findings.Problems.Add($"{name}: {count:N0} rate-limit decisions '{result}'; every one should be allowed"
                + (result == "unavailable" ? " ('unavailable': the limit store failed or did not answer within Gateway:Redis:TimeoutMilliseconds, "
                    + "50 ms by default, and the closed failure mode refused with 503)" : ""));
        if (m.RateLimitStoreErrors > 0)
            findings.Problems.Add($"{name}: {m.RateLimitStoreErrors:N0} rate-limit store errors");
        long answered = target.Answered + 1; // + the preflight request
        long inFlight = settings.RequestsInFlightBound(target.WarmupSeconds ?? settings.WarmupSeconds);
        var decisions = m.RateLimitDecisionCount;
        if (decisions < answered)
            findings.Problems.Add($"{name}: {decisions:N0} rate-limit decisions for {answered:N0} responses; some responses were not rate-limit checked");
        else if (decisions > answered + inFlight)
            findings.Problems.Add($"{name}: {decisions:N0} rate-limit decisions for {answered:N0} responses, more than the "
                + $"{inFlight:N0} requests that can have been in flight when load runs ended");
    }
}
