using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The two audit durability modes against bare YARP: the main gateway (Fsync, the default) and the write-durability
/// gateway (Write), their CPU per response, and the disk's idle fsync latency measured in the same run.
/// </summary>
internal static class DurabilitySection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        var disk = v.Data.Durability.Disk;
        sb.AppendLine("## Audit durability");
        sb.AppendLine();
        sb.AppendLine($"The same `GET /api/repos` on two gateway processes, the same build and the same config for this route (**{TargetNames.Gateway}** "
            + $"also declares the tunnel and opens the egress listener, which this route does not use), in the two modes of `Gateway:Audit:Durability`: **{TargetNames.Gateway}** "
            + $"`{DurabilityBench.Fsync}` (the default) and **{TargetNames.WriteDurability}** `{DurabilityBench.Write}`.");
        sb.AppendLine();
        string Name(Target t) => t == v.Gateway ? $"{t.Name} (fsync durability, the default)" : t.Name;
        ReportTables.MediansAndFixedRate(sb, v, [v.Yarp, v.Gateway, v.WriteDurability],
            [("ratio vs bare YARP", v.Yarp.MedianRequestsPerSecond), ("ratio vs fsync", v.Gateway.MedianRequestsPerSecond)], Name);
        sb.AppendLine($"The disk's idle fsync latency, measured in this run before the load ({disk.Iterations:N0} × append {DiskFsync.WriteBytes} bytes and fsync, "
            + $"timed together, in the run's temporary directory on {disk.FileSystem}, where every gateway's data directory is): "
            + $"p50 {Ms(disk.P50Ms)}, p99 {Ms(disk.P99Ms)}, max {Ms(disk.MaxMs)}.");
        sb.AppendLine();
        double fsyncUs = v.Gateway.CpuMicrosPerResponse(0), writeUs = v.WriteDurability.CpuMicrosPerResponse(0);
        sb.AppendLine($"CPU time per response during each target's own load runs (warm-up, rounds and fixed rate; user + system, from `/proc`): "
            + $"fsync {fsyncUs:F0} µs, write {writeUs:F0} µs ({Delta(writeUs - fsyncUs, "µs")}). Where the req/s differ by more than the CPU does, "
            + "the difference is time the fsync gateway's actions spend waiting for the device rather than working.");
        sb.AppendLine();
    }
}
