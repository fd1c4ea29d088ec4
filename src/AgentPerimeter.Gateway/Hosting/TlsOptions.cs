using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary><c>Gateway:Tls</c>: the server certificate of every https listener (PEM files).</summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate (chain), relative to the config directory.</summary>
    public string? Certificate { get; set; }

    /// <summary>PEM private key, relative to the config directory.</summary>
    public string? Key { get; set; }
}
