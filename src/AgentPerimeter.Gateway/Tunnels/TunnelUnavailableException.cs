using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>No connector serves the tunnel (or none freed a connection in time): nothing was sent to the private server.</summary>
public sealed class TunnelUnavailableException(string tunnel, string message) : Exception(message), IUnsentFailure
{
    public string Tunnel { get; } = tunnel;

    public string Code => RefusalCodes.TunnelUnavailable;
}
