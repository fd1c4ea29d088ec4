using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>MCP <c>tools/call</c> direct, through the gateway uninspected, and inspected.</summary>
internal static class McpSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## MCP tools/call");
        sb.AppendLine();
        ReportTables.MediansAndFixedRate(sb, v, [v.McpDirect, v.McpRaw, v.McpInspected],
            [("ratio vs direct", v.McpDirect.MedianRequestsPerSecond), ("ratio vs uninspected", v.McpRaw.MedianRequestsPerSecond)]);
    }
}
