namespace AgentPerimeter.Benchmarks;

/// <summary>The statistics the benchmark reports: medians of rounds.</summary>
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
}
