using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Testing;

/// <summary>A real redis-server on a loopback port, started by the test and killed at its end (or mid-test).</summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("perimeter-redis-").FullName;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    private string Output { get { lock (_output) return _output.ToString(); } }

    public static async Task<RedisServer> StartAsync()
    {
        // redis-server cannot be given port 0 (that turns TCP off), so the port is picked here. Should
        // another process take it first, redis-server says so and exits: then another port is tried.
        for (int attempt = 1; ; attempt++)
        {
            var server = new RedisServer(PickPort());
            if (await server.TryStartAsync())
                return server;
            server.Dispose();
            if (attempt == 3)
                Assert.Fail($"redis-server did not start on any of 3 ports. Its output:\n{server.Output}");
        }
    }

    /// <summary>Starts redis-server again on the same port (after <see cref="Kill"/>), empty as a restarted cache is.</summary>
    public async Task RestartAsync()
    {
        if (!await TryStartAsync())
            Assert.Fail($"redis-server did not start again on port {Port}. Its output:\n{Output}");
    }

    /// <summary>Starts redis-server and waits until it says it accepts connections; false if it exited instead.</summary>
    private async Task<bool> TryStartAsync()
    {
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new Xunit.Sdk.XunitException("redis-server is not installed. Run the suite with tests/run.sh, which installs it (Debian package 'redis-server').");
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _dir })
            info.ArgumentList.Add(a);
        lock (_output)
            _output.Clear();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
        // Its own word, not a TCP connect: a connect could reach whatever else holds the port.
        await Eventually.UntilAsync(() => Output.Contains("Ready to accept connections", StringComparison.Ordinal) || process.HasExited,
            TimeSpan.FromSeconds(10), $"redis-server accepts connections on port {Port}", () => Output);
        return !process.HasExited;
    }

    private static int PickPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
