namespace AgentPerimeter.Benchmarks;

/// <summary>The statistics the benchmark reports: medians of rounds, percentiles of samples.</summary>
internal static class Stats
{
    /// <summary>The median; the mean of the two middle values for an even count; NaN for none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>
    /// The <paramref name="fraction"/> percentile (0.99: p99) of values sorted ascending, by nearest rank: the smallest
    /// value that at least that fraction of the values do not exceed. NaN for none.
    /// </summary>
    public static double Percentile(IReadOnlyList<double> sorted, double fraction)
    {
        if (sorted.Count == 0)
            return double.NaN;
        int rank = (int)Math.Ceiling(fraction * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }
}
