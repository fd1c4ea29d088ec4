using System.Net;

namespace AgentPerimeter.Connector;

/// <summary>Kestrel "listens" on this endpoint by dialing out to the gateway(s).</summary>
internal sealed class TunnelEndPoint(ConnectorOptions options) : EndPoint
{
    public ConnectorOptions Options { get; } = options;

    public override string ToString() => $"tunnel '{Options.Tunnel}' via {string.Join(", ", Options.Gateways.Select(g => g.GetLeftPart(UriPartial.Authority)))}";
}
