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

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flush the output readers
        return _process.ExitCode;
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"'{text}' not seen. Output:\n{Output}");
            await Task.Delay(50);
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
