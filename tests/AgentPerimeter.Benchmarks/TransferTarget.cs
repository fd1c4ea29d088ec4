namespace AgentPerimeter.Benchmarks;

/// <summary>
/// A target of the 10 MB transfers, timed one at a time: the uploads (direct, through the gateway, through the tunnel)
/// and the downloads (direct, through an egress tunnel). Its MB/s per measured transfer, and the bytes confirmed.
/// </summary>
internal sealed class TransferTarget(string name, Uri url)
{
    public string Name { get; } = name;
    public Uri Url { get; } = url;
    public List<double> MegabytesPerSecond { get; } = [];

    /// <summary>Transfers that got an answer (warm-ups included).</summary>
    public int Answered { get; set; }

    /// <summary>Transfers that failed or did not move the full length.</summary>
    public int Failed { get; set; }

    /// <summary>
    /// Bytes confirmed, summed over the transfers that moved the full length: for an upload, what the server said it
    /// received; for a download, what the client read.
    /// </summary>
    public long BytesConfirmed { get; set; }

    public double MedianMegabytesPerSecond => Stats.Median(MegabytesPerSecond);

    /// <summary>The slowest measured transfer's MB/s; NaN for none.</summary>
    public double MinMegabytesPerSecond => MegabytesPerSecond.DefaultIfEmpty(double.NaN).Min();

    /// <summary>The fastest measured transfer's MB/s; NaN for none.</summary>
    public double MaxMegabytesPerSecond => MegabytesPerSecond.DefaultIfEmpty(double.NaN).Max();
}
