namespace AgentPerimeter.Gateway.Actions;

/// <summary>Which listener a connection arrived on.</summary>
public enum ListenerKind
{
    Agent,
    Admin,
    /// <summary>Connectors dialing out to serve reverse tunnels.</summary>
    Tunnel,
    /// <summary>Inbound tunnel termination: mutual TLS, routed by host name, otherwise the agent pipeline.</summary>
    Inbound,
    /// <summary>The sandboxes' forward proxy (HTTP and CONNECT): a raw connection handler, not the HTTP pipeline.</summary>
    Egress,
}
