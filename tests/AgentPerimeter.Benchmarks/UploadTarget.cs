namespace AgentPerimeter.Benchmarks;

/// <summary>A target of the 10 MB uploads: its MB/s per measured upload, and what the server confirmed.</summary>
internal sealed class UploadTarget(string name, Uri url)
{
    public string Name { get; } = name;
    public Uri Url { get; } = url;
    public List<double> MegabytesPerSecond { get; } = [];

    /// <summary>Uploads that got an answer (warm-ups included).</summary>
    public int Answered { get; set; }

    /// <summary>Uploads that failed or did not answer 200 with the full length.</summary>
    public int Failed { get; set; }

    /// <summary>Bytes the server said it received, summed over the uploads it answered with the full length.</summary>
    public long BytesConfirmed { get; set; }

    public double MedianMegabytesPerSecond => Stats.Median(MegabytesPerSecond);

    /// <summary>The slowest measured upload's MB/s; NaN for none.</summary>
    public double MinMegabytesPerSecond => MegabytesPerSecond.DefaultIfEmpty(double.NaN).Min();

    /// <summary>The fastest measured upload's MB/s; NaN for none.</summary>
    public double MaxMegabytesPerSecond => MegabytesPerSecond.DefaultIfEmpty(double.NaN).Max();
}
