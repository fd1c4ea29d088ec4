using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;

namespace AgentPerimeter.Gateway.Hosting;

public sealed class ListenerOptions
{
    /// <summary>Where agents connect (proxied routes only).</summary>
    public string Agent { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Operators only: /metrics, /healthz, /readyz and /admin. Keep it on loopback or a private network.</summary>
    public string Admin { get; set; } = "http://127.0.0.1:9090";

    /// <summary>Where connectors dial in (<c>/tunnels/{name}</c>). Unset: no reverse tunnels. https needs <c>Gateway:Tls</c>.</summary>
    public string? Tunnel { get; set; }

    /// <summary>
    /// Inbound tunnel termination: an https listener that requires a client certificate issued by
    /// <c>Gateway:Inbound:ClientCertificateAuthority</c> and routes by host name. Unset: none.
    /// </summary>
    public string? Inbound { get; set; }

    /// <summary>
    /// The sandboxes' egress proxy (absolute-form HTTP and CONNECT, <c>Proxy-Authorization</c> with the session
    /// token), e.g. <c>http://0.0.0.0:3128</c>. Unset (and no <c>Gateway:Egress:UnixSocket</c>): no egress proxy.
    /// </summary>
    public string? Egress { get; set; }
}
