using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>The gateway without limits and with in-memory and Redis limits: throughput, fixed rate, Redis commands and CPU.</summary>
internal static class RateLimitSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## Rate limits");
        sb.AppendLine();
        string Name(Target t) => t == v.Gateway ? $"{t.Name} (no limits, reference)" : t.Name;
        ReportTables.MediansAndFixedRate(sb, v, [v.Gateway, v.LimitsMemory, v.LimitsRedis],
            [("ratio vs in-memory limits", v.LimitsMemory.MedianRequestsPerSecond)], Name);
        RedisCommands(sb, v.Data.RateLimits);
        RoundTrips(sb, v.Data.RateLimits);
        Cpu(sb, v);
    }

    private static void RedisCommands(StringBuilder sb, RateLimitCheck rl)
    {
        sb.AppendLine($"Redis commands from just before the Redis gateway's preflight request to the end of the run (its preflight, warm-up, rounds and fixed-rate run: "
            + $"{rl.RedisDecisions:N0} rate-limit decisions):");
        sb.AppendLine();
        sb.AppendLine("| command | calls | per action |");
        sb.AppendLine("|---|---:|---:|");
        foreach (var (command, calls) in rl.RedisCommands.Calls.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
            sb.AppendLine($"| `{command.ToUpperInvariant()}` | {calls:N0} | {(rl.RedisDecisions > 0 ? calls / rl.RedisDecisions : double.NaN):F3} |");
        sb.AppendLine();
    }

    private static void RoundTrips(StringBuilder sb, RateLimitCheck rl)
    {
        sb.AppendLine($"Round trips per action: **{rl.ScriptCallsPerAction:F3}** (`EVALSHA` + `EVAL` calls / rate-limit decisions of any result). "
            + "Redis also counts the commands a script runs (the gateway's script calls `TIME`, then `GET` and `SET` once per limit), which are not round trips; "
            + "`SCRIPT` is the one-time `SCRIPT LOAD` of the client library, and the rest are background traffic not tied to actions (the revocation set re-read "
            + "every 500 ms, `SMEMBERS`; the client's keep-alives; the benchmark's own `INFO` reads).");
        sb.AppendLine();
    }

    /// <summary>CPU per response, in-memory vs Redis (the gateway plus redis-server), and the throughput ratio that CPU alone would allow.</summary>
    private static void Cpu(StringBuilder sb, ReportView v)
    {
        double memUs = v.LimitsMemory.CpuMicrosPerResponse(0), redisGwUs = v.LimitsRedis.CpuMicrosPerResponse(0), redisSrvUs = v.LimitsRedis.CpuMicrosPerResponse(1);
        sb.AppendLine($"CPU time per response during each target's own load runs (warm-up, rounds and fixed rate; user + system, from `/proc`): "
            + $"in-memory limits gateway {memUs:F0} µs; Redis limits gateway {redisGwUs:F0} µs ({Delta(redisGwUs - memUs, "µs")} in the gateway) "
            + $"+ redis-server {redisSrvUs:F0} µs = {redisGwUs + redisSrvUs:F0} µs ({(redisGwUs + redisSrvUs) / memUs:P0} of in-memory). "
            + $"If CPU were all that limits the saturated runs, Redis limits would keep at least {memUs / (redisGwUs + redisSrvUs):P0} of the in-memory "
            + $"throughput (more, counting the load generator's and upstream's share, the same for both); measured: {v.LimitsRedis.MedianRequestsPerSecond / v.LimitsMemory.MedianRequestsPerSecond:P0}. "
            + "A measured ratio well below that bound means the Redis path also waits — the round trip and its hand-offs under 32 concurrent connections — "
            + "rather than only working more. With Redis on its own host, redis-server's share would leave this machine.");
        sb.AppendLine();
    }
}
