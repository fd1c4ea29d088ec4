using System.Collections.Concurrent;
using System.Diagnostics;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// A long-running child (the gateway, the bare-YARP proxy). Keeps the last lines of its output for
/// error messages, and is registered so that every child is killed, by its id, however the benchmark ends.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int TailLines = 40;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly Action<string>? _onLine;

    private ChildProcess(string name, Process process, Action<string>? onLine)
    {
        Name = name;
        _process = process;
        _onLine = onLine;
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>CPU time (user + system) the child has used so far; zero once it has exited.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Starts the child; <paramref name="onLine"/> sees every line it writes (stdout and stderr).</summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory,
        Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true, // closed when the benchmark ends: the YARP child exits on EOF
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            psi.ArgumentList.Add(argument);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment.Remove("ASPNETCORE_URLS");

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, onLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        if (!process.Start())
            throw new InvalidOperationException($"Could not start {name} ({fileName}).");
        ProcessRegistry.Add(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Polls <paramref name="isReady"/> every <paramref name="interval"/> until it answers true. If the child exits
    /// or <paramref name="timeout"/> passes first, the child is stopped and an exception says
    /// <paramref name="notReady"/>, followed by the child's last lines. The probe handles its own "not yet" errors.
    /// </summary>
    public async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> isReady, TimeSpan timeout, TimeSpan interval,
        string notReady, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (HasExited || DateTime.UtcNow > deadline)
            {
                var tail = Tail();
                await DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"{notReady}:{Environment.NewLine}{tail}");
            }
            if (await isReady(ct).ConfigureAwait(false))
                return;
            await Task.Delay(interval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The last lines the child wrote, for error messages.</summary>
    public string Tail() => _tail.IsEmpty ? "(no output)" : string.Join(Environment.NewLine, _tail);

    public async ValueTask DisposeAsync()
    {
        ProcessRegistry.Kill(_process);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Reported by the caller's absence of output; nothing else to do.
        }
        ProcessRegistry.Remove(_process);
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        _tail.Enqueue(line);
        while (_tail.Count > TailLines && _tail.TryDequeue(out _))
        {
        }
        _onLine?.Invoke(line);
    }
}

/// <summary>Every process the benchmark started and has not yet reaped; killed by id on any exit path.</summary>
internal static class ProcessRegistry
{
    private static readonly ConcurrentDictionary<Process, byte> Live = new();

    public static void Add(Process process) => Live.TryAdd(process, 0);

    public static void Remove(Process process) => Live.TryRemove(process, out _);

    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited between the check and the kill.
        }
    }

    public static void KillAll()
    {
        foreach (var process in Live.Keys)
            Kill(process);
    }
}
