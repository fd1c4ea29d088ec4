using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Testing;

/// <summary>
/// A loopback port where nothing listens, held for the test: the socket is bound (so no other
/// process can take the port) but never listens (so every connection is refused). Unlike "bind
/// port 0, read it, release it", nothing can start listening there while the test relies on it.
/// </summary>
public sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public ClosedPort()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>, without a trailing slash.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Frees the port (e.g. for the server a test starts there next).</summary>
    public void Dispose() => _socket.Dispose();
}
