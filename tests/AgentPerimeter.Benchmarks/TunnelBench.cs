using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The reverse-tunnel part of the benchmark: the main gateway declares tunnel <c>bench-mcp</c> and a tunnel
/// listener, a connector (the Release build of <c>src/AgentPerimeter.Connector</c>) dials out to it and serves
/// the benchmark's MCP server, and the same MCP <c>tools/call</c> and a 10 MB upload go through the gateway
/// directly and through the tunnel.
/// </summary>
internal static class TunnelBench
{
    /// <summary>The tunnel (<c>Gateway:Tunnels:bench-mcp</c>); the cluster <c>bench-mcp-tunnel</c> has the one destination <c>tunnel://bench-mcp</c>.</summary>
    public const string Tunnel = "bench-mcp";
    public const string Cluster = "bench-mcp-tunnel";

    /// <summary>The MCP route through the tunnel: the inspected route's twin, only its cluster differs.</summary>
    public const string McpRoute = "bench-mcp-tunnel";
    public const string McpPath = "/tunnel/mcp";

    /// <summary>The upload routes, plain HTTP: to the MCP server's <c>/upload</c> directly and through the tunnel.</summary>
    public const string UploadDirectRoute = "bench-upload";
    public const string UploadDirectPath = "/direct/upload";
    public const string UploadTunnelRoute = "bench-upload-tunnel";
    public const string UploadTunnelPath = "/tunnel/upload";

    /// <summary>10 MB, under the gateway's default <c>Gateway:MaxRequestBodyBytes</c> (10,485,760).</summary>
    public const int UploadBytes = 10_000_000;

    /// <summary>Uploads per target before the measured ones (connections, JIT, buffers).</summary>
    public const int UploadWarmups = 3;

    /// <summary>Measured uploads per target, interleaved; the median MB/s is reported.</summary>
    public const int UploadRepetitions = 15;

    /// <summary>Idle connections the connector keeps ready (<c>--connections</c>).</summary>
    public const int ConnectorIdleConnections = 4;

    public const string ConnectorId = "bench";

    /// <summary>Writes a fresh random connector credential (64 hex digits) for the tunnel; returns the file.</summary>
    public static string WriteCredential(string directory)
    {
        var path = Path.Combine(directory, "tunnel-" + Tunnel);
        File.WriteAllText(path, RandomNumberGenerator.GetHexString(64, lowercase: true) + "\n");
        return path;
    }

    /// <summary>The gateway arguments that declare the tunnel and open its listener.</summary>
    public static IEnumerable<string> GatewayArguments(int tunnelPort, string credentialFile) =>
    [
        $"--Gateway:Listeners:Tunnel=http://127.0.0.1:{tunnelPort.ToString(CultureInfo.InvariantCulture)}",
        $"--Gateway:Tunnels:{Tunnel}:Credential:Kind=file",
        $"--Gateway:Tunnels:{Tunnel}:Credential:Path={credentialFile}",
    ];

    /// <summary>
    /// Starts the connector and waits until it logs "connected to" and the gateway's <c>/admin/tunnels</c>
    /// counts its <see cref="ConnectorIdleConnections"/> connections.
    /// </summary>
    public static async Task<ChildProcess> StartConnectorAsync(string dotnet, string connectorDll, int tunnelPort, Uri target, string credentialFile,
        string workDir, HttpClient http, Uri admin, CancellationToken ct)
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var child = ChildProcess.Start("connector", dotnet,
        [
            connectorDll,
            "--gateway", $"http://127.0.0.1:{tunnelPort.ToString(CultureInfo.InvariantCulture)}",
            "--tunnel", Tunnel,
            "--target", target.GetLeftPart(UriPartial.Authority),
            "--credential-file", credentialFile,
            "--connections", ConnectorIdleConnections.ToString(CultureInfo.InvariantCulture),
            "--id", ConnectorId,
        ], workDir, line =>
        {
            if (line.Contains("connected to", StringComparison.Ordinal))
                connected.TrySetResult();
        });

        await child.WaitUntilReadyAsync(
            async token => connected.Task.IsCompleted && await ConnectionsAsync(http, admin, token).ConfigureAwait(false) >= ConnectorIdleConnections,
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), $"the connector did not connect tunnel '{Tunnel}'", ct).ConfigureAwait(false);
        return child;
    }

    /// <summary>The tunnel's live connections (idle and busy) as the gateway's <c>GET /admin/tunnels</c> lists them.</summary>
    public static async Task<int> ConnectionsAsync(HttpClient http, Uri admin, CancellationToken ct)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(admin, "admin/tunnels"), ct).ConfigureAwait(false));
        foreach (var tunnel in json.RootElement.EnumerateArray())
        {
            if (tunnel.GetProperty("tunnel").GetString() == Tunnel)
                return tunnel.GetProperty("connections").GetInt32();
        }
        throw new InvalidOperationException($"the gateway's /admin/tunnels does not list tunnel '{Tunnel}': {json.RootElement.GetRawText()}");
    }

    /// <summary>
    /// Uploads of <see cref="UploadBytes"/> to each target: <see cref="UploadWarmups"/> each, then
    /// <see cref="UploadRepetitions"/> interleaved rounds (the order rotates). Every answer must be 200 with
    /// the server's count of the bytes it received, exactly <see cref="UploadBytes"/>.
    /// </summary>
    public static async Task RunUploadsAsync(IReadOnlyList<TransferTarget> targets, string token, List<string> problems, CancellationToken ct)
    {
        var body = new byte[UploadBytes];
        RandomNumberGenerator.Fill(body);
        using var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(120) };

        foreach (var target in targets)
        {
            BenchLog.Write($"upload warm-up {target.Name}: {UploadWarmups} x {UploadBytes:N0} bytes");
            for (int i = 0; i < UploadWarmups; i++)
                await UploadOnceAsync(client, target, body, token, problems, ct).ConfigureAwait(false);
        }
        for (int round = 0; round < UploadRepetitions; round++)
        {
            for (int i = 0; i < targets.Count; i++)
            {
                var target = targets[(i + round) % targets.Count];
                if (await UploadOnceAsync(client, target, body, token, problems, ct).ConfigureAwait(false) is { } seconds)
                    target.MegabytesPerSecond.Add(UploadBytes / 1e6 / seconds);
            }
        }
        foreach (var target in targets)
            BenchLog.Write($"upload {target.Name}: median {target.MedianMegabytesPerSecond:F0} MB/s "
                + $"(min {target.MinMegabytesPerSecond:F0}, max {target.MaxMegabytesPerSecond:F0}) "
                + $"over {target.MegabytesPerSecond.Count} uploads");
    }

    /// <summary>One upload; its duration in seconds (request start to the answer read), or null if it failed (a problem is recorded).</summary>
    private static async Task<double?> UploadOnceAsync(HttpClient client, TransferTarget target, byte[] body, string token, List<string> problems, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var clock = Stopwatch.StartNew();
        string answer;
        HttpStatusCode status;
        try
        {
            using var response = await client.SendAsync(request, ct).ConfigureAwait(false);
            answer = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            status = response.StatusCode;
        }
        catch (HttpRequestException ex)
        {
            target.Failed++;
            problems.Add($"upload {target.Name}: {ex.Message}");
            return null;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        target.Answered++;
        long received = -1;
        try
        {
            using var json = JsonDocument.Parse(answer);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("bytes", out var bytes))
                received = bytes.GetInt64();
        }
        catch (JsonException)
        {
        }
        if (status != HttpStatusCode.OK || received != UploadBytes)
        {
            target.Failed++;
            problems.Add($"upload {target.Name}: answered {(int)status} {answer.Trim()}; expected 200 with {{\"bytes\":{UploadBytes}}}");
            return null;
        }
        target.BytesConfirmed += received;
        return seconds;
    }
}
