using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>Writes docs/benchmarks.md: its sections, in order.</summary>
internal static class Report
{
    public static string Build(ReportData data)
    {
        var v = new ReportView(data);
        var sb = new StringBuilder();
        HeaderSection.Write(sb, v);
        MachineSection.Write(sb, v);
        MethodSection.Write(sb, v);
        ThroughputSection.Write(sb, v);
        FixedRateSection.Write(sb, v);
        DurabilitySection.Write(sb, v);
        RateLimitSection.Write(sb, v);
        McpSection.Write(sb, v);
        TunnelSection.Write(sb, v);
        EgressSection.Write(sb, v);
        TargetsSection.Write(sb, v);
        GatewayDuringRunSection.Write(sb, v);
        RoundsSection.Write(sb, v);
        ProblemsSection.Write(sb, v);
        ReproduceSection.Write(sb);
        return sb.ToString();
    }
}
