using System.Diagnostics;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The disk's idle fsync latency, measured in the run before any load: <see cref="Iterations"/> appends of
/// <see cref="WriteBytes"/> bytes to a file in the run's temporary directory (the filesystem of every gateway's data
/// directory), each followed by <c>FileStream.Flush(flushToDisk: true)</c> — fsync, as the gateway's audit log makes a
/// batch durable — and timed together, write and fsync. <see cref="FileSystem"/> is that directory's filesystem type.
/// </summary>
internal sealed record DiskFsync(int Iterations, double P50Ms, double P99Ms, double MaxMs, string FileSystem)
{
    public const int DefaultIterations = 2000;
    public const int WriteBytes = 512;
    public const string ProbeFile = "fsync-probe.bin";

    /// <summary>Filesystems whose fsync never reaches a device, so the probe (and fsync durability) costs nothing there.</summary>
    public bool IsMemoryBacked => FileSystem is "tmpfs" or "ramfs";

    /// <summary>Runs the probe in <paramref name="directory"/>; its file is deleted afterwards.</summary>
    public static DiskFsync Measure(string directory, CancellationToken ct, int iterations = DefaultIterations)
    {
        var path = Path.Combine(directory, ProbeFile);
        var block = new byte[WriteBytes];
        Random.Shared.NextBytes(block);
        var ms = new double[iterations];
        try
        {
            // No FileStream buffer: each Write is one write() system call, like the gateway's one write per batch.
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            for (int i = 0; i < iterations; i++)
            {
                ct.ThrowIfCancellationRequested();
                long start = Stopwatch.GetTimestamp();
                file.Write(block);
                file.Flush(flushToDisk: true);
                ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
        finally
        {
            File.Delete(path);
        }
        Array.Sort(ms);
        return new DiskFsync(iterations, Stats.Percentile(ms, 0.50), Stats.Percentile(ms, 0.99), ms[^1], FileSystemOf(directory));
    }

    /// <summary>The type of the filesystem <paramref name="directory"/> is on: the longest mount point above it in /proc/self/mountinfo.</summary>
    private static string FileSystemOf(string directory)
    {
        try
        {
            var full = Path.GetFullPath(directory).TrimEnd('/') + "/";
            string type = "unknown";
            int longest = -1;
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS; spaces in paths are \040.
                var fields = line.Split(' ');
                int separator = Array.IndexOf(fields, "-");
                if (fields.Length < 5 || separator < 0 || separator + 1 >= fields.Length)
                    continue;
                var mountPoint = fields[4].Replace("\\040", " ", StringComparison.Ordinal).TrimEnd('/') + "/";
                if (full.StartsWith(mountPoint, StringComparison.Ordinal) && mountPoint.Length > longest)
                {
                    longest = mountPoint.Length;
                    type = fields[separator + 1];
                }
            }
            return type;
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
