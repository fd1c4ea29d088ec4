namespace AgentPerimeter.Gateway.Tunnels;

/// <summary><c>Gateway:Inbound</c>: who may reach the inbound listener and which host names it serves.</summary>
public sealed class InboundOptions
{
    /// <summary>PEM file of the only CA whose client certificates are accepted (e.g. the external tunnel's origin-pull CA).</summary>
    public string? ClientCertificateAuthority { get; set; }

    /// <summary>The tunnel domain: requests must be for <c>&lt;server&gt;.&lt;Domain&gt;</c>.</summary>
    public string? Domain { get; set; }

    /// <summary>The server labels served; any other host name is refused (421).</summary>
    public List<string> Servers { get; set; } = [];
}
