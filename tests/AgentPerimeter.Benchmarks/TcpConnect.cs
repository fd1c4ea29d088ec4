using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Benchmarks;

/// <summary>A fresh TCP connection (no Nagle delay) for the egress clients, as a stream that owns its socket.</summary>
internal static class TcpConnect
{
    public static async Task<NetworkStream> ConnectAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>127.0.0.1:<paramref name="port"/>.</summary>
    public static Task<NetworkStream> LoopbackAsync(int port, CancellationToken ct) => ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
}
