using System.Globalization;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// How much of the machine's CPU went to processes other than the benchmark's own (this process, its
/// reaped wrk/hey runs, the gateway and bare-YARP children) between two snapshots: a check that the
/// run was not disturbed by other work on the machine.
/// </summary>
internal sealed class CpuAccounting
{
    private readonly int[] _children;
    private readonly Snapshot _start;

    public CpuAccounting(params int[] children)
    {
        _children = children;
        _start = Take();
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>Share of all cores' time (0–1) used by other processes since construction; null if /proc is unavailable.</summary>
    public double? OtherShare()
    {
        var end = Take();
        if (_start.Total <= 0 || end.Total <= _start.Total)
            return null;
        double busy = end.Busy - _start.Busy;
        double ours = end.Ours - _start.Ours;
        return Math.Clamp((busy - ours) / (end.Total - _start.Total), 0, 1);
    }

    private Snapshot Take()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice (jiffies, all cores)
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            long total = cpu.Sum();
            long busy = total - cpu[3] - cpu[4];
            long ours = ProcessTicks("self", includeReapedChildren: true) + _children.Sum(pid => ProcessTicks(pid.ToString(CultureInfo.InvariantCulture), false));
            return new Snapshot(total, busy, ours);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidOperationException)
        {
            return new Snapshot(0, 0, 0);
        }
    }

    private static long ProcessTicks(string pid, bool includeReapedChildren)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int n) => long.Parse(fields[n - 3], CultureInfo.InvariantCulture);
            return Field(14) + Field(15) + (includeReapedChildren ? Field(16) + Field(17) : 0);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private readonly record struct Snapshot(long Total, long Busy, long Ours);
}
