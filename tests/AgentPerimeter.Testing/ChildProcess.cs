using System.Diagnostics;
using System.Text;

namespace AgentPerimeter.Testing;

/// <summary>Runs one of the product's own programs as a real child process (built beside the tests).</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Path of a product assembly built in the same configuration as the tests.</summary>
    public static string ProductDll(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(TestPaths.RepoRoot(), "src", project, "bin", configuration, "net10.0", assembly + ".dll");
        Assert.True(File.Exists(path), $"{path} is not built");
        return path;
    }

    public static ChildProcess Start(string dll, IEnumerable<string> args, string? workingDirectory = null) =>
        StartExecutable("dotnet", [dll, .. args], workingDirectory);

    public static ChildProcess StartWithEnvironment(string dll, IEnumerable<string> args, IEnumerable<(string Name, string Value)> environment) =>
        StartExecutable("dotnet", [dll, .. args], null, environment);

    public static ChildProcess StartExecutable(string fileName, IEnumerable<string> args, string? workingDirectory = null,
        IEnumerable<(string Name, string Value)>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var (name, value) in environment ?? [])
            info.Environment[name] = value;
        foreach (var a in args)
            info.ArgumentList.Add(a);
        return new ChildProcess(Process.Start(info)!);
    }

    /// <summary>Sends SIGTERM, as an orchestrator stopping the process does.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flush the output readers
        return _process.ExitCode;
    }

    /// <summary>Waits until the process has written <paramref name="text"/>; fails if it exits or the time runs out first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        bool Seen() => Output.Contains(text, StringComparison.Ordinal);
        await Eventually.UntilAsync(() => Seen() || _process.HasExited, timeout,
            $"'{text}' in the output of {Path.GetFileName(_process.StartInfo.FileName)}", () => "Output:\n" + Output);
        if (!Seen())
        {
            _process.WaitForExit(); // flush the output readers
            Assert.True(Seen(), $"'{text}' not seen before the process exited ({_process.ExitCode}). Output:\n{Output}");
        }
    }

    /// <summary>Kills the process (SIGKILL: no goodbye on any connection) and waits for it to be gone.</summary>
    public void Kill()
    {
        if (_disposed)
            return;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        Kill();
        _disposed = true;
        _process.Dispose();
    }

    private bool _disposed;
}
