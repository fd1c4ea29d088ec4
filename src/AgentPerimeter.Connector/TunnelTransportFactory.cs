using System.Net;
using Microsoft.AspNetCore.Connections;

namespace AgentPerimeter.Connector;

/// <summary>
/// A Kestrel transport whose connections are dialed, not accepted: each one is a WebSocket the
/// connector opens to the gateway's tunnel listener, over which the gateway then speaks HTTP/1.1 to
/// this connector's Kestrel. So the private server needs no inbound port: only outbound connections
/// leave its network.
/// </summary>
internal sealed class TunnelTransportFactory(ConnectorState state, ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is TunnelEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = new TunnelListener((TunnelEndPoint)endpoint, state, loggers.CreateLogger("AgentPerimeter.Connector.Tunnel"));
        listener.Start();
        return ValueTask.FromResult<IConnectionListener>(listener);
    }
}
