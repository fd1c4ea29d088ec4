using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>How to run the benchmark again, and its variables.</summary>
internal static class ReproduceSection
{
    public static void Write(StringBuilder sb)
    {
        sb.AppendLine("## Reproduce");
        sb.AppendLine();
        sb.AppendLine("```sh");
        sb.AppendLine("tests/AgentPerimeter.Benchmarks/run.sh");
        sb.AppendLine("# shorter: BENCH_WARMUP=3 BENCH_ROUNDS=1 BENCH_SECONDS=3 tests/AgentPerimeter.Benchmarks/run.sh");
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("Variables: BENCH_WARMUP (s, default 20), BENCH_MCP_WARMUP (s, default 10 or BENCH_WARMUP if shorter), "
            + "BENCH_LIMITS_WARMUP (s, default 10 or BENCH_WARMUP if shorter), BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNECTIONS (32), "
            + "BENCH_FIXED_SECONDS (10), BENCH_FIXED_RATE (1000), BENCH_YARP (`process` or `inproc`), BENCH_OUTPUT (docs/benchmarks.md), "
            + "BENCH_GATEWAY_DLL and BENCH_CONNECTOR_DLL (the Release builds), BENCH_REDIS_SERVER (redis-server on PATH). Needs wrk, hey and redis-server. "
            + "The exit code is 0 whether or not a target is met; non-zero means the run itself failed.");
    }
}
