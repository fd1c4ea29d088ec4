using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary><c>Gateway:Admin</c>: who may use the admin API.</summary>
public sealed class AdminOptions
{
    /// <summary>
    /// File holding the operators' bearer token (one line). When set, every <c>/admin/*</c> endpoint
    /// requires <c>Authorization: Bearer &lt;token&gt;</c>; health, readiness, metrics and the JWKS stay open.
    /// Relative to the data directory. Unset: the admin API relies on the listener being private.
    /// </summary>
    public string? TokenFile { get; set; }

    /// <summary>
    /// Lets an admin listener that other hosts can reach run without <see cref="TokenFile"/> — only for a
    /// network that is private by other means. Without it such a gateway refuses to start.
    /// </summary>
    public bool AllowUnauthenticated { get; set; }
}
