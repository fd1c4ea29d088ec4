using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The rate-limit part of the benchmark: a real <c>redis-server</c> on a free loopback port (no
/// persistence, its files in the run's temporary directory), started by the benchmark and killed at
/// its end, and a minimal RESP client for <c>PING</c> and <c>INFO</c> — enough to wait for the server
/// and to count the commands the gateway sends it, without a Redis client library in the benchmark.
/// </summary>
internal static class RedisBench
{
    /// <summary>
    /// Applies to the benchmark's HTTP route only (<c>GET /api/repos</c> is route <c>demo-api</c>), so the MCP
    /// targets (on the main gateway, which has no limits anyway) are untouched.
    /// </summary>
    public const string LimitedRoute = Servers.HttpRoute;

    /// <summary>
    /// Two limits, so each action spends two budgets (two keys) in its one store call. Both are far above
    /// anything a load generator on this machine reaches (one action per microsecond), so they never refuse;
    /// the GCRA arithmetic and the store call still run in full on every action.
    /// </summary>
    public static readonly (string Id, int Limit, string Period)[] Limits =
    [
        ("bench-per-second", 1_000_000, "00:00:01"),
        ("bench-per-minute", 60_000_000, "00:01:00"),
    ];

    /// <summary>Starts redis-server on a free loopback port and waits until it answers PING.</summary>
    public static async Task<(ChildProcess Child, int Port)> StartServerAsync(string binary, string dataDir, CancellationToken ct)
    {
        Directory.CreateDirectory(dataDir);
        var port = LoopbackPort.Free();
        var child = ChildProcess.Start("redis-server", binary,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dataDir],
            dataDir);
        await child.WaitUntilReadyAsync(token => AnswersPingAsync(port, token), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50),
            $"redis-server did not start on port {port}", ct).ConfigureAwait(false);
        return (child, port);
    }

    private static async Task<bool> AnswersPingAsync(int port, CancellationToken ct)
    {
        try
        {
            return await CommandAsync(port, ["PING"], ct).ConfigureAwait(false) == "PONG";
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return false; // Not listening yet.
        }
    }

    /// <summary>The server's version, from <c>INFO server</c>.</summary>
    public static async Task<string> VersionAsync(int port, CancellationToken ct)
    {
        var info = await CommandAsync(port, ["INFO", "server"], ct).ConfigureAwait(false);
        return InfoFields(info).Where(f => f.Key == "redis_version").Select(f => f.Value).FirstOrDefault() ?? "unknown";
    }

    /// <summary>Calls per command since the server started, from <c>INFO commandstats</c> (lower-case names, e.g. <c>evalsha</c>).</summary>
    public static async Task<CommandStats> CommandStatsAsync(int port, CancellationToken ct)
    {
        var info = await CommandAsync(port, ["INFO", "commandstats"], ct).ConfigureAwait(false);
        var calls = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in InfoFields(info))
        {
            // cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,rejected_calls=0,failed_calls=0
            if (!key.StartsWith("cmdstat_", StringComparison.Ordinal))
                continue;
            foreach (var part in value.Split(','))
            {
                if (part.StartsWith("calls=", StringComparison.Ordinal))
                    calls[key["cmdstat_".Length..]] = long.Parse(part["calls=".Length..], CultureInfo.InvariantCulture);
            }
        }
        return new CommandStats(calls);
    }

    /// <summary>
    /// One command on a fresh connection; returns a simple or bulk string reply. The benchmark's own PING and
    /// INFO calls show up in commandstats too (as <c>ping</c>, <c>info</c>), never as script calls.
    /// </summary>
    public static async Task<string> CommandAsync(int port, IReadOnlyList<string> args, CancellationToken ct)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(args.Count).Append("\r\n");
        foreach (var arg in args)
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), timeout.Token).ConfigureAwait(false);

        var reader = new RespReader(stream);
        var line = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        switch (line[0])
        {
            case '+':
            case ':':
                return line[1..];
            case '-':
                throw new IOException($"redis answered {string.Join(' ', args)} with an error: {line[1..]}");
            case '$':
                var length = int.Parse(line[1..], CultureInfo.InvariantCulture);
                if (length < 0)
                    return "";
                var body = await reader.ReadExactlyAsync(length + 2, timeout.Token).ConfigureAwait(false);
                return Encoding.UTF8.GetString(body, 0, length);
            default:
                throw new IOException($"unexpected redis reply to {string.Join(' ', args)}: {line}");
        }
    }

    private static IEnumerable<(string Key, string Value)> InfoFields(string info)
    {
        foreach (var raw in info.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || colon <= 0)
                continue;
            yield return (line[..colon], line[(colon + 1)..]);
        }
    }

    /// <summary>Reads RESP lines and fixed-length bulk bodies from a stream.</summary>
    private sealed class RespReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start, _end;

        public async Task<string> ReadLineAsync(CancellationToken ct)
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end)
                    await FillAsync(ct).ConfigureAwait(false);
                var b = _buffer[_start++];
                if (b == '\n' && line.Count > 0 && line[^1] == '\r')
                    return Encoding.UTF8.GetString(line.ToArray(), 0, line.Count - 1);
                line.Add(b);
            }
        }

        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var result = new byte[count];
            int filled = 0;
            while (filled < count)
            {
                if (_start == _end)
                    await FillAsync(ct).ConfigureAwait(false);
                int n = Math.Min(count - filled, _end - _start);
                Array.Copy(_buffer, _start, result, filled, n);
                _start += n;
                filled += n;
            }
            return result;
        }

        private async Task FillAsync(CancellationToken ct)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, ct).ConfigureAwait(false);
            if (_end == 0)
                throw new IOException("redis closed the connection");
        }
    }
}

/// <summary>Calls per Redis command (<c>INFO commandstats</c>), and the difference between two snapshots.</summary>
internal sealed record CommandStats(IReadOnlyDictionary<string, long> Calls)
{
    public static readonly CommandStats Empty = new(new Dictionary<string, long>());

    public long this[string command] => Calls.GetValueOrDefault(command);

    /// <summary>Calls made between <paramref name="before"/> and this snapshot, commands with none left out.</summary>
    public CommandStats Since(CommandStats before) => new(Calls
        .Select(kv => (kv.Key, Delta: kv.Value - before[kv.Key]))
        .Where(x => x.Delta != 0)
        .ToDictionary(x => x.Key, x => x.Delta, StringComparer.Ordinal));

    /// <summary>Script calls: each is one round trip of the Redis rate-limit path.</summary>
    public long ScriptCalls => this["evalsha"] + this["eval"] + this["evalsha_ro"] + this["eval_ro"] + this["fcall"] + this["fcall_ro"];
}
