using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Protocol.Hosting;

namespace AgentPerimeter.Cli;

/// <summary>
/// The gateway program as a child process of the CLI — <c>check</c> runs it to completion, <c>demo</c>
/// keeps it running — so the CLI carries none of the gateway's code. It is found in <c>gateway/</c>
/// beside the CLI (where the CLI's build and publish put it), else beside the CLI itself (an output that
/// holds both, such as the tests'), and run by the same <c>dotnet</c> that runs the CLI. A running
/// gateway is stopped with the CLI: on dispose, and on the CLI's own exit.
/// </summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private const int TailLines = 40;

    private readonly Process _process;
    private readonly TaskCompletionSource<(Uri Agent, Uri Admin)> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _tail = new();

    private GatewayProcess(Process process) => _process = process;

    public Uri AgentUri { get; private set; } = null!;
    public Uri AdminUri { get; private set; } = null!;

    /// <summary>Completes when the gateway process has exited.</summary>
    public Task Exited => _process.WaitForExitAsync();

    /// <summary>The gateway's assembly, or null when it is not installed beside the CLI.</summary>
    public static string? Locate()
    {
        foreach (var dir in new[] { Path.Combine(AppContext.BaseDirectory, "gateway"), AppContext.BaseDirectory })
        {
            var dll = Path.Combine(dir, GatewayCommandLine.AssemblyName + ".dll");
            if (File.Exists(dll) && File.Exists(Path.Combine(dir, GatewayCommandLine.AssemblyName + ".runtimeconfig.json")))
                return dll;
        }
        return null;
    }

    /// <summary>
    /// Runs the gateway to completion (<c>--check</c>): its exit code and what it printed, collected to
    /// be written out at once when it is done (as a command's output is), not line by line as it runs.
    /// </summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Output, IReadOnlyList<string> Errors)> RunToCompletionAsync(string dll, IEnumerable<string> args)
    {
        List<string> output = [], errors = [];
        using var process = new Process { StartInfo = StartInfo(dll, args) };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync().ConfigureAwait(false); // also waits for the output to be read to its end
        return (process.ExitCode, output, errors);
    }

    /// <summary>
    /// Starts the gateway and waits until its listeners are bound (its <see cref="GatewayListeningEvent"/>).
    /// Throws <see cref="GatewayStartException"/> when it exits first or is not ready in time.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string dll, IEnumerable<string> args, TimeSpan timeout)
    {
        var process = new Process { StartInfo = StartInfo(dll, args) };
        var gateway = new GatewayProcess(process);
        process.OutputDataReceived += (_, e) => gateway.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.OnLine(e.Data);
        process.Start();
        AppDomain.CurrentDomain.ProcessExit += gateway.OnCliExit;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string failure;
        int? exitCode = null;
        try
        {
            // WaitForExitAsync completes once the output is read to its end too: every line is seen.
            var exited = process.WaitForExitAsync();
            if (await Task.WhenAny(gateway._listening.Task, exited).WaitAsync(timeout).ConfigureAwait(false) == gateway._listening.Task)
            {
                (gateway.AgentUri, gateway.AdminUri) = await gateway._listening.Task.ConfigureAwait(false);
                return gateway;
            }
            exitCode = process.ExitCode;
            failure = gateway.DescribeFailure(process.ExitCode);
        }
        catch (TimeoutException)
        {
            failure = $"it did not say where it listens within {timeout.TotalSeconds:0} s";
        }
        await gateway.DisposeAsync().ConfigureAwait(false);
        throw new GatewayStartException(exitCode, failure);
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        // Until the gateway listens, its output is kept for a failure message; afterwards it is only drained.
        if (_listening.Task.IsCompleted)
            return;
        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
                _tail.Dequeue();
        }
        if (GatewayListeningEvent.TryParse(line, out var agent, out var admin))
            _listening.TrySetResult((agent!, admin!));
    }

    /// <summary>Why the gateway ended before it listened, from what it printed: its configuration errors, or the exception it died of.</summary>
    private string DescribeFailure(int exitCode)
    {
        string[] lines;
        lock (_tail)
            lines = [.. _tail];
        if (exitCode == GatewayCommandLine.InvalidConfiguration)
        {
            var errors = lines.Select(ConfigurationError).OfType<string>().ToList();
            if (errors.Count > 0)
                return $"its configuration is invalid: {string.Join("; ", errors)}";
        }
        foreach (var line in lines)
        {
            if (UnhandledException().Match(line) is { Success: true } m)
                return m.Groups["message"].Value;
        }
        return $"it exited with code {exitCode}";
    }

    /// <summary>The <c>Error</c> of the gateway's "Configuration error" log event (compact JSON), if the line is one.</summary>
    private static string? ConfigurationError(string line)
    {
        if (!line.StartsWith('{') || !line.Contains("\"Error\"", StringComparison.Ordinal))
            return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("Error", out var error) && error.ValueKind == JsonValueKind.String ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>The <c>dotnet</c> that runs this CLI (so the gateway runs on the same runtime), else the one on the PATH.</summary>
    internal static string DotnetHost()
    {
        var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == name)
            return self;
        // The runtime directory is <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, name);
        return File.Exists(host) ? host : name;
    }

    /// <summary>Stops the gateway: asks it to shut down (SIGTERM, so it finishes what it is doing), and kills it if it has not within the timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnCliExit;
        if (!HasExited())
        {
            RequestShutdown();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(StopTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Kill();
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        _process.Dispose();
    }

    /// <summary>The CLI is exiting (its last line ran, or it was told to stop): the gateway does not outlive it.</summary>
    private void OnCliExit(object? sender, EventArgs e)
    {
        if (HasExited())
            return;
        RequestShutdown();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(3)))
            Kill();
    }

    private bool HasExited()
    {
        try
        {
            return _process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true; // never started, or already disposed
        }
    }

    private void RequestShutdown()
    {
        if (OperatingSystem.IsWindows() || SendSignal(_process.Id, SigTerm) != 0)
            Kill();
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [GeneratedRegex(@"^Unhandled exception\. (?:[\w.`]+: )?(?<message>.+)$")]
    private static partial Regex UnhandledException();
}
