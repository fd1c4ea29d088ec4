namespace AgentPerimeter.Gateway.Egress;

/// <summary><c>Gateway:Egress</c>: how the egress listener reaches out.</summary>
public sealed class EgressOptions
{
    /// <summary>
    /// Also listen on this Unix domain socket (relative to the data directory): a sandbox in its own network
    /// namespace reaches the gateway through it (<c>perimeter sandbox run</c>). Unset: TCP only.
    /// </summary>
    public string? UnixSocket { get; set; }

    /// <summary>
    /// Inspected hosts: a PEM file of a CA their certificates may chain to besides the system roots (a private
    /// upstream). Unset: system roots only.
    /// </summary>
    public string? UpstreamCaFile { get; set; }

    /// <summary>How long resolving a name and connecting to the destination may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a CONNECT client may take to send its TLS ClientHello.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A tunnel or request with no byte in either direction for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
