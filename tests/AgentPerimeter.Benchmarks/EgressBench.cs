using System.Text.Json;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The sandbox-egress part of the benchmark: the main gateway also opens its egress listener (a forward proxy) on a
/// port the OS picks, and work type <c>build</c> gets two egress rules to servers in the benchmark process: an HTTPS
/// origin for <c>localhost</c> (TLS tunnels, the SNI checked) and a TCP server that accepts and stays silent (raw
/// tunnels). Through it: 10 MB downloads vs direct, the time to first byte of a new tunnel vs direct, and the gateway's
/// memory with many idle tunnels open.
/// </summary>
internal static class EgressBench
{
    /// <summary>The route id of every egress action (the gateway's, fixed) in <c>agentperimeter_actions_total</c> and the audit log.</summary>
    public const string Route = "egress";

    /// <summary>The rule for CONNECT tunnels to the HTTPS origin: TLS whose SNI is <see cref="Host"/>.</summary>
    public const string TlsRule = "bench-egress-tls";

    /// <summary>The rule for raw CONNECT tunnels (any bytes) to the silent TCP server.</summary>
    public const string RawRule = "bench-egress-raw";

    /// <summary>The name the HTTPS origin's certificate is for, and the host the TLS tunnels ask for.</summary>
    public const string Host = "localhost";

    /// <summary>The host the raw tunnels ask for: an IP literal, so no SNI is expected or needed.</summary>
    public const string RawHost = "127.0.0.1";

    /// <summary>Both origins are on loopback, which the gateway refuses unless the rule names the range.</summary>
    public const string LoopbackCidr = "127.0.0.0/8";

    /// <summary>The user name sent with the session token in <c>Proxy-Authorization: Basic</c> (the gateway takes the token from the password).</summary>
    public const string ProxyUser = "bench";

    /// <summary>The main gateway's egress listener: a port the OS picks, found in its log.</summary>
    public const string ListenerArgument = "--Gateway:Listeners:Egress=http://127.0.0.1:0";

    /// <summary>The main gateway's log file (in its data directory), where it says which port the egress listener got.</summary>
    public const string LogFile = "gateway.log";

    public static string LogArgument => $"--Gateway:Logging:File={LogFile}";

    /// <summary>The start of the gateway's log message that names the bound egress listener (event 15).</summary>
    private const string ListeningMessage = "Sandbox egress proxy on ";

    public const string DownloadPath = "/download";
    public const string SmallPath = "/small";

    /// <summary>10 MB, the same size as the uploads.</summary>
    public const int DownloadBytes = 10_000_000;

    public const int DownloadWarmups = 3;
    public const int DownloadRepetitions = 15;

    /// <summary>Fresh connections per path (direct, through the proxy) before the measured ones.</summary>
    public const int FirstByteWarmups = 10;

    /// <summary>Measured fresh connections per path; their median and p90 are reported.</summary>
    public const int FirstByteSamples = 200;

    /// <summary>Idle tunnels held open at once while the gateway's RSS is sampled.</summary>
    public const int IdleTunnels = 1000;

    /// <summary>CONNECTs in flight at once while the idle tunnels are opened.</summary>
    public const int IdleTunnelOpeners = 16;

    /// <summary>RSS readings (one per sampler tick) whose median is each RSS figure of the idle-tunnel step.</summary>
    public const int RssReadings = 5;

    /// <summary>
    /// The egress measurements, in order, against the main gateway: the downloads (direct and through a tunnel,
    /// interleaved), the first byte of new connections (direct and through the proxy, in alternating pairs), then the
    /// idle tunnels. They run last, after every other load, so they change nothing the other targets measure.
    /// </summary>
    public static async Task<EgressMeasurements> RunAsync(HttpClient http, BenchServers servers, BenchTargets targets, List<string> problems, CancellationToken ct)
    {
        var gateway = servers.Gateway;
        var proxy = gateway.Egress ?? throw new InvalidOperationException($"{TargetNames.Gateway} has no egress listener");
        var direct = targets.Downloads.Single(t => t.Name == TargetNames.DownloadDirect);
        var tunnel = targets.Downloads.Single(t => t.Name == TargetNames.DownloadTunnel);
        await EgressDownloads.RunAsync(servers.EgressOrigin, proxy, gateway.Token, direct, tunnel, problems, ct).ConfigureAwait(false);
        var firstByte = await EgressFirstByte.RunAsync(servers.EgressOrigin, proxy, gateway.Token, problems, ct).ConfigureAwait(false);
        var idle = await EgressIdleTunnels.RunAsync(http, gateway, servers.SilentServer, problems, ct).ConfigureAwait(false);
        return new EgressMeasurements(firstByte, idle);
    }

    /// <summary>
    /// The bound egress listener, from the gateway's log line "Sandbox egress proxy on {EgressUri} ...": with
    /// <c>http://127.0.0.1:0</c> only the gateway knows the port. The line is written once the host has started, which
    /// can be just after <c>/readyz</c> answers, so the file is read until it appears.
    /// </summary>
    public static async Task<Uri> ReadListenerUriAsync(string logPath, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (FindListenerUri(logPath) is { } uri)
                return uri;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"the gateway did not log \"{ListeningMessage}...\" in {logPath} within {timeout.TotalSeconds:F0} s; "
                    + "is the gateway build one with the egress listener (Gateway:Listeners:Egress)?");
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
        }
    }

    /// <summary>The <c>EgressUri</c> property of the first egress-listener line in the compact JSON log, or null.</summary>
    private static Uri? FindListenerUri(string logPath)
    {
        if (!File.Exists(logPath))
            return null;
        using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (!line.Contains(ListeningMessage, StringComparison.Ordinal))
                continue;
            try
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.TryGetProperty("EgressUri", out var value) && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri) && uri.Port > 0)
                    return uri;
            }
            catch (JsonException)
            {
                // A line still being written: read again on the next poll.
            }
        }
        return null;
    }
}
