using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>The egress listener: 10 MB downloads direct vs through a tunnel, a new tunnel's time to first byte, and the gateway's memory with idle tunnels.</summary>
internal static class EgressSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        sb.AppendLine("## Sandbox egress");
        sb.AppendLine();
        Downloads(sb, v);
        FirstByte(sb, v);
        IdleTunnels(sb, v);
    }

    private static void Downloads(StringBuilder sb, ReportView v)
    {
        sb.AppendLine($"{EgressBench.DownloadBytes:N0}-byte HTTPS download, one at a time ({EgressBench.DownloadRepetitions} measured per target):");
        sb.AppendLine();
        ReportTables.Transfers(sb, [v.DownloadDirect, v.DownloadTunnel], EgressBench.DownloadBytes, "download", v.DownloadDirect, "direct");
        sb.AppendLine();
    }

    private static void FirstByte(StringBuilder sb, ReportView v)
    {
        var f = v.Data.Egress.FirstByte;
        sb.AppendLine($"Time to first byte of a new connection — TCP connect, (through the proxy: `CONNECT` and its 200,) TLS handshake, `GET {EgressBench.SmallPath}` — "
            + $"{EgressBench.FirstByteSamples} fresh connections measured per path:");
        sb.AppendLine();
        sb.AppendLine("| path | p50 | p90 | added p50 | added p90 |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        sb.AppendLine($"| direct ({f.DirectMs.Count} measured) | {Ms(f.DirectP50Ms)} | {Ms(f.DirectP90Ms)} | — | — |");
        sb.AppendLine($"| through the egress proxy ({f.TunnelMs.Count} measured) | {Ms(f.TunnelP50Ms)} | {Ms(f.TunnelP90Ms)} "
            + $"| {Delta(f.TunnelP50Ms - f.DirectP50Ms)} | {Delta(f.TunnelP90Ms - f.DirectP90Ms)} |");
        sb.AppendLine();
        var disk = v.Data.Durability.Disk;
        sb.AppendLine($"The added time includes the intent record of each tunnel, made durable before the gateway connects out: the disk's idle fsync "
            + $"measured in this run took {Ms(disk.P50Ms)} at p50 and {Ms(disk.P99Ms)} at p99.");
        sb.AppendLine();
    }

    private static void IdleTunnels(StringBuilder sb, ReportView v)
    {
        var t = v.Data.Egress.IdleTunnels;
        sb.AppendLine($"{t.Requested:N0} idle raw tunnels to the silent server, held open at once:");
        sb.AppendLine();
        sb.AppendLine("| | gateway VmRSS | `agentperimeter_egress_open` |");
        sb.AppendLine("|---|---:|---:|");
        sb.AppendLine($"| before | {Mb(t.RssBeforeKb)} | {t.GaugeBefore:N0} |");
        sb.AppendLine($"| {t.Opened:N0} tunnels open | {Mb(t.RssOpenKb)} | {t.GaugeOpen:N0} |");
        sb.AppendLine($"| after they closed | {Mb(t.RssAfterCloseKb)} | {t.GaugeAfterClose:N0} |");
        sb.AppendLine();
        sb.AppendLine($"The open tunnels added {AddedMb(t)} of resident memory ({KbPerTunnel(t)} per tunnel); opening them took {t.OpenTime.TotalSeconds:F1} s "
            + $"({EgressBench.IdleTunnelOpeners} `CONNECT`s at a time: {t.Opened / t.OpenTime.TotalSeconds:N0} tunnels/s, each with its intent record), "
            + $"closing them {t.CloseTime.TotalSeconds:F1} s (until the gauge was back).");
        sb.AppendLine();
    }

    /// <summary>"+12.3 MB": the RSS the open tunnels added (1 MB = 10^6 bytes).</summary>
    public static string AddedMb(EgressIdleTunnels t) => $"{t.AddedKb * 1024 / 1e6:+0.0;-0.0;0.0} MB";

    /// <summary>"12.3 KB": the added RSS per open tunnel (1 KB = 10^3 bytes).</summary>
    public static string KbPerTunnel(EgressIdleTunnels t) => $"{t.KbPerTunnel * 1024 / 1e3:F1} KB";
}
