using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>Bare YARP and the gateway at the fixed rate: the per-request cost without queueing.</summary>
internal static class FixedRateSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine($"## Fixed rate (~{v.FixedRate:N0} req/s)");
        sb.AppendLine();
        ReportTables.FixedRate(sb, [v.Yarp, v.Gateway]);
        sb.AppendLine();
    }
}
