using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>The inspected MCP call through the gateway directly vs through the tunnel, their CPU, and the 10 MB uploads.</summary>
internal static class TunnelSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## Tunnel");
        sb.AppendLine();
        sb.AppendLine("MCP `tools/call` (inspected) through the gateway directly and through the tunnel:");
        sb.AppendLine();
        ReportTables.MediansAndFixedRate(sb, v, [v.McpInspected, v.McpTunnel],
            [("ratio vs gateway direct", v.McpInspected.MedianRequestsPerSecond), ("ratio vs MCP server direct", v.McpDirect.MedianRequestsPerSecond)]);
        Cpu(sb, v);
        Uploads(sb, v);
    }

    /// <summary>CPU per response, direct vs the tunnel (the gateway plus the connector), and the throughput ratio that CPU alone would allow.</summary>
    private static void Cpu(StringBuilder sb, ReportView v)
    {
        double inspectedGwUs = v.McpInspected.CpuMicrosPerResponse(0), tunnelGwUs = v.McpTunnel.CpuMicrosPerResponse(0), connectorUs = v.McpTunnel.CpuMicrosPerResponse(1);
        sb.AppendLine($"CPU time per response during each target's own load runs (warm-up, rounds and fixed rate; user + system, from `/proc`): "
            + $"gateway direct {inspectedGwUs:F0} µs in the gateway; through the tunnel {tunnelGwUs:F0} µs in the gateway ({Delta(tunnelGwUs - inspectedGwUs, "µs")}) "
            + $"+ {connectorUs:F0} µs in the connector = {tunnelGwUs + connectorUs:F0} µs ({(tunnelGwUs + connectorUs) / inspectedGwUs:P0} of direct). "
            + $"If CPU were all that limits the saturated runs, the tunnel would keep at least {inspectedGwUs / (tunnelGwUs + connectorUs):P0} of the direct throughput "
            + $"(more, counting the load generator's and the MCP server's share, the same for both); measured: {v.McpTunnel.MedianRequestsPerSecond / v.McpInspected.MedianRequestsPerSecond:P0}. "
            + "With the connector next to a private server on another host, its share would leave the gateway's machine.");
        sb.AppendLine();
    }

    private static void Uploads(StringBuilder sb, ReportView v)
    {
        sb.AppendLine($"{TunnelBench.UploadBytes:N0}-byte upload, one at a time ({TunnelBench.UploadRepetitions} measured per target):");
        sb.AppendLine();
        ReportTables.Transfers(sb, [v.UploadServer, v.UploadDirect, v.UploadTunnel], TunnelBench.UploadBytes, "upload", v.UploadDirect, "gateway direct");
        sb.AppendLine();
    }
}
