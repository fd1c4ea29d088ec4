using System.Diagnostics;
using System.Net;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// 10 MB downloads from the HTTPS origin, one at a time: directly, and through a CONNECT tunnel of the gateway's egress
/// listener. Each path has its own <see cref="HttpClient"/> that keeps its connection (and so its tunnel) between
/// downloads, so what is timed is the transfer, not the setup (which <see cref="EgressFirstByte"/> measures).
/// </summary>
internal static class EgressDownloads
{
    private const int ReadBufferBytes = 64 * 1024;

    /// <summary>
    /// <see cref="EgressBench.DownloadWarmups"/> downloads per target, then <see cref="EgressBench.DownloadRepetitions"/>
    /// interleaved rounds (the order rotates); every download must read exactly <see cref="EgressBench.DownloadBytes"/>.
    /// </summary>
    public static async Task RunAsync(EgressOrigin origin, Uri proxy, string token, TransferTarget direct, TransferTarget tunnel,
        List<string> problems, CancellationToken ct)
    {
        using var directClient = DirectClient(origin);
        using var tunnelClient = ProxiedClient(origin, proxy, token);
        var targets = new[] { (Target: direct, Client: directClient), (Target: tunnel, Client: tunnelClient) };
        var buffer = new byte[ReadBufferBytes];

        foreach (var (target, client) in targets)
        {
            BenchLog.Write($"download warm-up {target.Name}: {EgressBench.DownloadWarmups} x {EgressBench.DownloadBytes:N0} bytes");
            for (int i = 0; i < EgressBench.DownloadWarmups; i++)
                await DownloadOnceAsync(client, target, buffer, problems, ct).ConfigureAwait(false);
        }
        for (int round = 0; round < EgressBench.DownloadRepetitions; round++)
        {
            for (int i = 0; i < targets.Length; i++)
            {
                var (target, client) = targets[(i + round) % targets.Length];
                if (await DownloadOnceAsync(client, target, buffer, problems, ct).ConfigureAwait(false) is { } seconds)
                    target.MegabytesPerSecond.Add(EgressBench.DownloadBytes / 1e6 / seconds);
            }
        }
        foreach (var (target, _) in targets)
            BenchLog.Write($"download {target.Name}: median {target.MedianMegabytesPerSecond:F0} MB/s "
                + $"(min {target.MinMegabytesPerSecond:F0}, max {target.MaxMegabytesPerSecond:F0}) over {target.MegabytesPerSecond.Count} downloads");
    }

    /// <summary>
    /// No proxy; the connection goes to 127.0.0.1, the address the gateway connects to for <c>localhost</c> (its rule
    /// allows only 127.0.0.0/8), so both paths reach the origin the same way and the name is not resolved per connection.
    /// </summary>
    public static HttpClient DirectClient(EgressOrigin origin)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            SslOptions = origin.ClientOptions(),
            ConnectCallback = async (_, token) => await TcpConnect.LoopbackAsync(origin.Port, token).ConfigureAwait(false),
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(120) };
    }

    /// <summary>
    /// Through the egress listener as .NET does it for any app in a sandbox: <see cref="WebProxy"/> with the session token as
    /// the password of a <see cref="NetworkCredential"/>. The first CONNECT goes without credentials; the gateway answers
    /// 407 (Basic) and closes, and the handler sends it again with <c>Proxy-Authorization: Basic</c> on a new connection.
    /// </summary>
    public static HttpClient ProxiedClient(EgressOrigin origin, Uri proxy, string token)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = true,
            Proxy = new WebProxy(proxy) { Credentials = new NetworkCredential(EgressBench.ProxyUser, token) },
            AllowAutoRedirect = false,
            UseCookies = false,
            SslOptions = origin.ClientOptions(),
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(120) };
    }

    /// <summary>One download; its duration in seconds (request start to the last byte read), or null if it failed (a problem is recorded).</summary>
    private static async Task<double?> DownloadOnceAsync(HttpClient client, TransferTarget target, byte[] buffer, List<string> problems, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target.Url);
        var clock = Stopwatch.StartNew();
        long received = 0;
        HttpStatusCode status;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            status = response.StatusCode;
            await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            int n;
            while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                received += n;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            target.Failed++;
            problems.Add($"download {target.Name}: {ex.Message}");
            return null;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        target.Answered++;
        if (status != HttpStatusCode.OK || received != EgressBench.DownloadBytes)
        {
            target.Failed++;
            problems.Add($"download {target.Name}: answered {(int)status} with {received:N0} bytes; expected 200 with {EgressBench.DownloadBytes:N0}");
            return null;
        }
        target.BytesConfirmed += received;
        return seconds;
    }
}
