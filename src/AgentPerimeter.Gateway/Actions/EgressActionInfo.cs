namespace AgentPerimeter.Gateway.Actions;

/// <summary>The egress side of an action: where a sandbox asked to go, where the gateway connected, what passed.</summary>
public sealed class EgressActionInfo
{
    /// <summary>The host name (or IP literal) the client asked for, lower-case.</summary>
    public required string Host { get; init; }

    public required int Port { get; init; }

    /// <summary><c>connect</c> for a CONNECT tunnel, <c>http</c> for a plain HTTP request.</summary>
    public required string Mode { get; init; }

    /// <summary>The address the gateway resolved, checked and connected to (the only one it connects to).</summary>
    public string? Address { get; set; }

    /// <summary>The TLS server name the client sent in its ClientHello, when it sent one.</summary>
    public string? Sni { get; set; }

    /// <summary>Inspected tunnels: HTTP requests forwarded, and refused by the rule's methods and paths.</summary>
    public int InspectedRequests { get; set; }

    public int RefusedRequests { get; set; }

    public long BytesUp { get; set; }

    public long BytesDown { get; set; }

    /// <summary>Why the tunnel or request ended: <c>client_closed</c>, <c>upstream_closed</c>, <c>revoked</c>, <c>idle</c>, <c>sni_mismatch</c>, <c>not_tls</c>, <c>connect_failed</c>, …</summary>
    public string? CloseReason { get; set; }
}
