using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>Where the numbers were taken, and whether other work on the machine disturbed them.</summary>
internal static class MachineSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        var d = v.Data;
        sb.AppendLine("## Machine");
        sb.AppendLine();
        sb.AppendLine($"- nproc: {d.Machine.Nproc}");
        sb.AppendLine($"- CPU: {d.Machine.Cpu}");
        sb.AppendLine($"- memory: {d.Machine.Memory}");
        sb.AppendLine($"- OS: {d.Machine.Os}");
        sb.AppendLine($"- runtime: {d.Machine.Runtime}; load generators: {d.Machine.Wrk}, hey; redis-server {d.RateLimits.RedisVersion}");
        sb.AppendLine($"- gateway commit: {d.Machine.Commit}" + (v.Settings.GatewayDllFromEnvironment
            ? " — of this checkout; the gateway measured is the build BENCH_GATEWAY_DLL named, which may be other code" : ""));
        sb.AppendLine($"- load average before the run: {d.LoadAverageBefore}; CPU used by other processes during the measurement: "
            + (d.OtherCpuShare is { } other ? $"{other:P0} of the machine" : "unknown")
            + (d.OtherCpuShare > Thresholds.OtherCpuWarning ? " — **disturbed, rerun on a quiet machine**" : ""));
        sb.AppendLine();
    }
}
