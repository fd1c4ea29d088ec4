using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// A CONNECT tunnel through the gateway's egress listener, opened by hand the way curl does with
/// <c>HTTPS_PROXY=http://AGENT:TOKEN@HOST:PORT</c>: the session token goes in <c>Proxy-Authorization: Basic</c> with the
/// CONNECT itself (no 407 round first), and the stream is the tunnel once the proxy answers 200.
/// </summary>
internal static class ProxyConnect
{
    private const int MaxHeadBytes = 8192;

    /// <summary>
    /// Opens a connection to <paramref name="proxy"/>, asks for <paramref name="host"/>:<paramref name="port"/> and returns
    /// the tunnel's stream (it owns the socket). Throws if the proxy answers anything but 200.
    /// </summary>
    public static async Task<NetworkStream> OpenAsync(Uri proxy, string host, int port, string token, CancellationToken ct)
    {
        var stream = await TcpConnect.ConnectAsync(new IPEndPoint(IPAddress.Parse(proxy.Host), proxy.Port), ct).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(Request(host, port, token), ct).ConfigureAwait(false);
            var head = await ReadHeadAsync(stream, ct).ConfigureAwait(false);
            if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal) || !head.EndsWith("\r\n\r\n", StringComparison.Ordinal))
                throw new InvalidOperationException($"the egress proxy answered CONNECT {host}:{port} with {FirstLine(head)}");
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The CONNECT request; <paramref name="token"/> null sends no credentials (the proxy must answer 407).</summary>
    public static byte[] Request(string host, int port, string? token)
    {
        var sb = new StringBuilder()
            .Append("CONNECT ").Append(host).Append(':').Append(port).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append(':').Append(port).Append("\r\n");
        if (token is not null)
            sb.Append("Proxy-Authorization: Basic ").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{EgressBench.ProxyUser}:{token}"))).Append("\r\n");
        return Encoding.ASCII.GetBytes(sb.Append("\r\n").ToString());
    }

    /// <summary>
    /// Reads the proxy's answer up to the end of its head. After a 200 nothing more comes from the proxy until the client
    /// speaks (a TLS server waits for the ClientHello; the silent server never speaks), so a read never takes tunnel
    /// bytes along; a refusal's body may come with it, and closes the connection.
    /// </summary>
    public static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxHeadBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
            if (read == 0)
                break;
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
                break;
        }
        return Encoding.Latin1.GetString(buffer, 0, length);
    }

    public static string FirstLine(string head) => head.Length == 0 ? "(nothing: the connection closed)" : head.Split("\r\n")[0];
}
