using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Gateway.FunctionalTests.Sandbox;

/// <summary>
/// STAND-IN for the gateway's egress listener — for <see cref="SandboxRunTests"/> ONLY, until the real
/// listener (src/AgentPerimeter.Gateway/Egress, built on another branch) lands; then these tests start the
/// real gateway with <c>Gateway:Egress:UnixSocket</c> instead and this file is deleted. It is not the
/// product and decides nothing: it speaks just enough of the forward-proxy protocol to show what crosses
/// the sandbox's one way out.
/// <list type="bullet">
/// <item>Listens on a Unix socket, as the gateway's egress listener will.</item>
/// <item><c>CONNECT host:port</c>: <c>HTTP/1.1 200 Connection established</c>, then bytes both ways.</item>
/// <item>An absolute-form request (<c>GET http://host:port/path</c>): sent on to the host in origin form
/// without the <c>Proxy-*</c> headers, with <c>Connection: close</c>, and the answer relayed back.</item>
/// <item>Without the expected <c>Proxy-Authorization</c>: 407. Every request line and the header it came
/// with are recorded in <see cref="Seen"/>.</item>
/// <item>Names ending in <c>.sandbox.test</c> resolve to loopback: names are resolved here, by the
/// proxy, as the gateway resolves them for a sandbox that has no DNS.</item>
/// </list>
/// </summary>
internal sealed class StandInEgressProxy : IAsyncDisposable
{
    public const string TestDomain = ".sandbox.test";

    private readonly Socket _listener;
    private readonly string _expectedAuthorization;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;

    private StandInEgressProxy(Socket listener, string socketPath, string expectedAuthorization)
    {
        _listener = listener;
        SocketPath = socketPath;
        _expectedAuthorization = expectedAuthorization;
        _accepting = AcceptAsync();
    }

    public string SocketPath { get; }

    /// <summary>Every request that reached the proxy: its request line and its <c>Proxy-Authorization</c>, if any.</summary>
    public ConcurrentQueue<(string RequestLine, string? ProxyAuthorization)> Seen { get; } = new();

    public static StandInEgressProxy Start(string socketPath, string agent, string token)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(64);
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{agent}:{token}"));
        return new StandInEgressProxy(listener, socketPath, basic);
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        using var clientStream = new NetworkStream(client, ownsSocket: false);
        var (head, rest) = await ReadHeadAsync(clientStream);
        if (head is null)
            return; // a connection that sent nothing (sandbox run checks the socket answers)
        var lines = head.Split("\r\n");
        var requestLine = lines[0];
        var authorization = lines.Skip(1).Select(Header).FirstOrDefault(h => h.Name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)).Value;
        Seen.Enqueue((requestLine, authorization));
        if (authorization != _expectedAuthorization)
        {
            await WriteAsync(clientStream, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"perimeter\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }

        var parts = requestLine.Split(' ');
        var connect = parts[0] == "CONNECT";
        var uri = new Uri(connect ? $"tcp://{parts[1]}" : parts[1]);
        using var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await upstream.ConnectAsync(Endpoint(uri.Host, uri.Port));
        }
        catch (SocketException)
        {
            await WriteAsync(clientStream, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        if (connect)
        {
            await WriteAsync(clientStream, "HTTP/1.1 200 Connection established\r\n\r\n");
        }
        else
        {
            var headers = lines.Skip(1).Where(l => !l.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) && !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase));
            await upstream.SendAsync(Encoding.ASCII.GetBytes($"{parts[0]} {uri.PathAndQuery} {parts[2]}\r\n{string.Join("\r\n", headers)}\r\nConnection: close\r\n\r\n"));
        }
        await upstream.SendAsync(rest);
        using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
        await Task.WhenAll(PumpAsync(clientStream, upstream), PumpAsync(upstreamStream, client));
    }

    private static EndPoint Endpoint(string host, int port) =>
        host.EndsWith(TestDomain, StringComparison.OrdinalIgnoreCase) ? new IPEndPoint(IPAddress.Loopback, port) : new DnsEndPoint(host, port);

    private static (string Name, string Value) Header(string line)
    {
        var colon = line.IndexOf(':');
        return colon < 0 ? (line, "") : (line[..colon].Trim(), line[(colon + 1)..].Trim());
    }

    /// <summary>The request head (without its blank line) and whatever came after it; a null head for a connection closed first.</summary>
    private static async Task<(string? Head, byte[] After)> ReadHeadAsync(Stream stream)
    {
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        while (buffer.Count < 64 * 1024)
        {
            var n = await stream.ReadAsync(chunk);
            if (n == 0)
                return (null, []);
            buffer.AddRange(chunk.AsSpan(0, n));
            var end = Encoding.ASCII.GetString([.. buffer]).IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
                return (Encoding.ASCII.GetString([.. buffer], 0, end), [.. buffer.Skip(end + 4)]);
        }
        return (null, []);
    }

    private static async Task PumpAsync(Stream from, Socket to)
    {
        try
        {
            await from.CopyToAsync(new NetworkStream(to, ownsSocket: false));
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // one side went away; the other ends when its socket is disposed
        }
    }

    private static Task WriteAsync(Stream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Dispose();
        await _accepting;
        File.Delete(SocketPath);
    }
}
