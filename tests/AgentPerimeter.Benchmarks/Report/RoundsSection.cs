using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>Every measured wrk round, in the order it ran (each group's order rotates each round).</summary>
internal static class RoundsSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## Rounds");
        sb.AppendLine();
        sb.AppendLine("| round | target | req/s | p50 | p99 |");
        sb.AppendLine("|---:|---|---:|---:|---:|");
        foreach (var group in new[] { v.Data.Targets, v.Data.McpTargets })
        {
            for (int round = 0; round < v.Settings.Rounds; round++)
            {
                for (int i = 0; i < group.Count; i++)
                {
                    var t = group[(i + round) % group.Count];
                    var r = t.Rounds[round];
                    sb.AppendLine($"| {round + 1} | {t.Name} | {r.RequestsPerSecond:N0} | {Ms(r.P50Ms)} | {Ms(r.P99Ms)} |");
                }
            }
        }
        sb.AppendLine();
    }
}
