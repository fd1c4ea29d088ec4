using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The time to first byte of a new connection to the HTTPS origin: TCP connect, (through the proxy: CONNECT with the
/// token and its 200,) the TLS handshake, and a small GET, timed until the first byte of the answer arrives. Each
/// sample is a fresh connection, direct and through the egress listener in pairs whose order alternates.
/// </summary>
internal sealed class EgressFirstByte
{
    public List<double> DirectMs { get; } = [];
    public List<double> TunnelMs { get; } = [];

    /// <summary>Connections that failed or did not answer 200 with the small body (warm-ups included).</summary>
    public int Failed { get; private set; }

    /// <summary>Tunnels the proxy opened (answered 200), warm-ups included: each one an egress action.</summary>
    public int TunnelsOpened { get; private set; }

    public double DirectP50Ms => Percentile(DirectMs, 0.50);
    public double DirectP90Ms => Percentile(DirectMs, 0.90);
    public double TunnelP50Ms => Percentile(TunnelMs, 0.50);
    public double TunnelP90Ms => Percentile(TunnelMs, 0.90);

    /// <summary>
    /// <see cref="EgressBench.FirstByteWarmups"/> unrecorded pairs, then <see cref="EgressBench.FirstByteSamples"/> measured
    /// pairs; the even ones go direct first, the odd ones through the proxy first.
    /// </summary>
    public static async Task<EgressFirstByte> RunAsync(EgressOrigin origin, Uri proxy, string token, List<string> problems, CancellationToken ct)
    {
        var result = new EgressFirstByte();
        BenchLog.Write($"first byte: {EgressBench.FirstByteWarmups} warm-up + {EgressBench.FirstByteSamples} measured fresh connections, direct and through the egress proxy");
        for (int i = 0; i < EgressBench.FirstByteWarmups + EgressBench.FirstByteSamples; i++)
        {
            bool measured = i >= EgressBench.FirstByteWarmups;
            foreach (var throughProxy in i % 2 == 0 ? new[] { false, true } : [true, false])
            {
                var ms = await result.OnceAsync(origin, throughProxy ? proxy : null, token, problems, ct).ConfigureAwait(false);
                if (measured && ms is { } value)
                    (throughProxy ? result.TunnelMs : result.DirectMs).Add(value);
            }
        }
        BenchLog.Write($"first byte: direct p50 {result.DirectP50Ms:F2} ms, p90 {result.DirectP90Ms:F2} ms; "
            + $"through the egress proxy p50 {result.TunnelP50Ms:F2} ms, p90 {result.TunnelP90Ms:F2} ms");
        return result;
    }

    /// <summary>One fresh connection; milliseconds to the first byte of the answer, or null if it failed (a problem is recorded).</summary>
    private async Task<double?> OnceAsync(EgressOrigin origin, Uri? proxy, string token, List<string> problems, CancellationToken ct)
    {
        var what = proxy is null ? "direct" : "through the egress proxy";
        try
        {
            var clock = Stopwatch.StartNew();
            Stream transport = proxy is null ? await TcpConnect.LoopbackAsync(origin.Port, ct).ConfigureAwait(false) : await OpenTunnelAsync(proxy, origin.Port, token, ct).ConfigureAwait(false);
            await using var tls = new SslStream(transport, leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(origin.ClientOptions(), ct).ConfigureAwait(false);
            await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {EgressBench.SmallPath} HTTP/1.1\r\nHost: {EgressBench.Host}:{origin.Port}\r\nConnection: close\r\n\r\n"), ct)
                .ConfigureAwait(false);
            var buffer = new byte[4096];
            int length = await tls.ReadAsync(buffer, ct).ConfigureAwait(false);
            var ms = clock.Elapsed.TotalMilliseconds;

            // Not timed: the rest of the answer (the origin closes the connection after it), which must be the small body.
            int n;
            while (length < buffer.Length && (n = await tls.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false)) > 0)
                length += n;
            var answer = buffer.AsSpan(0, length);
            if (!answer.StartsWith("HTTP/1.1 200 "u8) || !answer.EndsWith(EgressOrigin.SmallBody))
            {
                Failed++;
                problems.Add($"first byte {what}: GET {EgressBench.SmallPath} answered {ProxyConnect.FirstLine(Encoding.Latin1.GetString(answer))}; expected 200 with the small body");
                return null;
            }
            return ms;
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
        {
            Failed++;
            problems.Add($"first byte {what}: {ex.Message}");
            return null;
        }
    }

    private async Task<Stream> OpenTunnelAsync(Uri proxy, int port, string token, CancellationToken ct)
    {
        var tunnel = await ProxyConnect.OpenAsync(proxy, EgressBench.Host, port, token, ct).ConfigureAwait(false);
        TunnelsOpened++;
        return tunnel;
    }

    private static double Percentile(List<double> values, double fraction) => Stats.Percentile(values.Order().ToList(), fraction);
}
