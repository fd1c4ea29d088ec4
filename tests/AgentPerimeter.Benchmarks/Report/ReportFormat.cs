namespace AgentPerimeter.Benchmarks;

/// <summary>How the report writes its numbers.</summary>
internal static class ReportFormat
{
    public static string Ms(double ms) => $"{ms:F2} ms";

    /// <summary>A signed difference in milliseconds: "+0.60 ms".</summary>
    public static string Delta(double ms) => $"{ms:+0.00;-0.00;0.00} ms";

    /// <summary>A signed difference in whole <paramref name="unit"/>s: "+46 µs".</summary>
    public static string Delta(double value, string unit) => $"{value:+0;-0;0} {unit}";

    public static string Mb(long kb) => $"{kb * 1024 / 1e6:F0} MB";

    /// <summary>"key: count, key: count" in key order, or "none".</summary>
    public static string Counts(IReadOnlyDictionary<string, double> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value:N0}"));

    public static string PassOrShort(bool pass) => pass ? "pass" : "**short**";
}
