using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>The HTTP targets' wrk medians, as ratios of bare YARP's.</summary>
internal static class ThroughputSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## Throughput");
        sb.AppendLine();
        ReportTables.Medians(sb, [v.Upstream, v.Yarp, v.Gateway], [("ratio vs bare YARP", v.Yarp.MedianRequestsPerSecond)]);
        sb.AppendLine();
    }
}
