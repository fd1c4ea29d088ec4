using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Benchmarks;

/// <summary>Free TCP ports on the loopback interface, for the processes the benchmark starts.</summary>
internal static class LoopbackPort
{
    /// <summary>A port that was free a moment ago (the OS picks it; the listener is closed again at once).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
