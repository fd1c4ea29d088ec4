using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>The two tables the report repeats for each group of targets: the wrk medians and the fixed-rate run.</summary>
internal static class ReportTables
{
    /// <summary>
    /// Median req/s, p50 and p99 over the rounds, and one ratio column per baseline (the target's median req/s over
    /// the baseline's). <paramref name="name"/> overrides the name shown for a target.
    /// </summary>
    public static void Medians(StringBuilder sb, IEnumerable<Target> targets, IReadOnlyList<(string Header, double Rps)> ratios,
        Func<Target, string>? name = null)
    {
        sb.AppendLine("| target | req/s (median) | p50 | p99 |" + string.Concat(ratios.Select(r => $" {r.Header} |")));
        sb.AppendLine("|---|---:|---:|---:|" + string.Concat(ratios.Select(_ => "---:|")));
        foreach (var t in targets)
        {
            double rps = t.MedianRequestsPerSecond;
            sb.AppendLine($"| {name?.Invoke(t) ?? t.Name} | {rps:N0} | {Ms(t.MedianP50Ms)} | {Ms(t.MedianP99Ms)} |"
                + string.Concat(ratios.Select(r => $" {rps / r.Rps:F2} |")));
        }
    }

    /// <summary>Achieved req/s, p50 and p99 of each target's fixed-rate run.</summary>
    public static void FixedRate(StringBuilder sb, IEnumerable<Target> targets, Func<Target, string>? name = null)
    {
        sb.AppendLine("| target | achieved req/s | p50 | p99 |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var t in targets)
            sb.AppendLine($"| {name?.Invoke(t) ?? t.Name} | {t.Fixed!.RequestsPerSecond:N0} | {Ms(t.Fixed.P50Ms)} | {Ms(t.Fixed.P99Ms)} |");
    }

    /// <summary>
    /// The 10 MB transfers, one row a target: median, slowest and fastest MB/s, the time of one <paramref name="noun"/> at
    /// the median, and the median as a ratio of <paramref name="baseline"/>'s (<paramref name="baselineName"/> in the header).
    /// </summary>
    public static void Transfers(StringBuilder sb, IEnumerable<TransferTarget> targets, int bytes, string noun, TransferTarget baseline, string baselineName)
    {
        sb.AppendLine($"| target | MB/s (median) | min | max | time per {noun} (median) | ratio vs {baselineName} |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var t in targets)
        {
            double mbps = t.MedianMegabytesPerSecond;
            sb.AppendLine($"| {t.Name} | {mbps:N0} | {t.MinMegabytesPerSecond:N0} | {t.MaxMegabytesPerSecond:N0} "
                + $"| {Ms(bytes / 1e3 / mbps)} | {mbps / baseline.MedianMegabytesPerSecond:F2} |");
        }
    }

    /// <summary>One group's two tables: the wrk medians, then the same targets at the fixed rate (<see cref="AtFixedRate"/>).</summary>
    public static void MediansAndFixedRate(StringBuilder sb, ReportView v, IReadOnlyList<Target> targets,
        IReadOnlyList<(string Header, double Rps)> ratios, Func<Target, string>? name = null)
    {
        Medians(sb, targets, ratios, name);
        sb.AppendLine();
        AtFixedRate(sb, v, targets, name);
    }

    /// <summary>"At a fixed rate (~N req/s):" and the fixed-rate table, each followed by a blank line.</summary>
    private static void AtFixedRate(StringBuilder sb, ReportView v, IEnumerable<Target> targets, Func<Target, string>? name = null)
    {
        sb.AppendLine($"At a fixed rate (~{v.FixedRate:N0} req/s):");
        sb.AppendLine();
        FixedRate(sb, targets, name);
        sb.AppendLine();
    }
}
