using System.Globalization;
using System.Runtime.InteropServices;

namespace AgentPerimeter.Benchmarks;

/// <summary>Where the numbers were taken: cores, CPU, memory, OS, runtime, tools and the commit measured.</summary>
internal sealed record MachineInfo(string Nproc, string Cpu, string Memory, string Os, string Runtime, string Wrk, string Commit)
{
    public static async Task<MachineInfo> CollectAsync(string repoRoot, CancellationToken ct)
    {
        var nproc = (await TryRunAsync("nproc", [], ct).ConfigureAwait(false))?.Trim() is { Length: > 0 } n
            ? n : Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? ReadField("/proc/cpuinfo", "Model") ?? "unknown";
        var memory = ReadField("/proc/meminfo", "MemTotal") is { } mem
            && long.TryParse(mem.Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb)
            ? $"{kb / 1024.0 / 1024.0:F1} GiB" : "unknown";
        var wrk = (await TryRunAsync("wrk", ["-v"], ct).ConfigureAwait(false))?.Split('\n')[0] is { } w
            ? w.Split(" Copyright", 2)[0].Trim() : "unknown";

        var commit = (await TryRunAsync("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"], ct).ConfigureAwait(false))?.Trim();
        if (string.IsNullOrEmpty(commit))
            commit = "unknown";
        else if ((await TryRunAsync("git", ["-C", repoRoot, "status", "--porcelain", "--", "src/AgentPerimeter.Gateway", "src/AgentPerimeter.Connector", "config"], ct).ConfigureAwait(false))?.Trim().Length > 0)
            commit += " + uncommitted changes to src/AgentPerimeter.Gateway, src/AgentPerimeter.Connector or config";

        return new MachineInfo(nproc, cpu, memory, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, wrk, commit);
    }

    private static string? ReadField(string path, string field)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == field)
                    return line[(colon + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    private static async Task<string?> TryRunAsync(string tool, IReadOnlyList<string> args, CancellationToken ct)
    {
        try
        {
            var (_, stdout, stderr) = await Tool.RunAsync(tool, args, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            return stdout.Length > 0 ? stdout : stderr;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
