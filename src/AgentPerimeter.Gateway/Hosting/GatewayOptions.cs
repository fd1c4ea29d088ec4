using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>The <c>Gateway</c> section of <c>config/gateway.json</c>.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    public ListenerOptions Listeners { get; set; } = new();

    /// <summary>Where the signing key and audit log live unless given absolute paths.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Largest request body the agent listener accepts (413 beyond it).</summary>
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    public IdentityOptions Identity { get; set; } = new();

    /// <summary>The directory the configuration files were read from (relative secret files start here). Not configurable.</summary>
    internal string ConfigDirectory { get; set; } = Directory.GetCurrentDirectory();
    public AuditOptions Audit { get; set; } = new();
    public LoggingOptions Logging { get; set; } = new();
    public RedisOptions Redis { get; set; } = new();
    public AdminOptions Admin { get; set; } = new();
    public TlsOptions Tls { get; set; } = new();
    public Idempotency.IdempotencyOptions Idempotency { get; set; } = new();
    public Approvals.ApprovalOptions Approvals { get; set; } = new();
    public Tunnels.InboundOptions Inbound { get; set; } = new();

    /// <summary>The declared tunnels (<c>Gateway:Tunnels</c>), loaded and checked by the validator.</summary>
    internal System.Collections.Frozen.FrozenDictionary<string, Tunnels.TunnelDefinition> TunnelDefinitions { get; set; } =
        System.Collections.Frozen.FrozenDictionary<string, Tunnels.TunnelDefinition>.Empty;

    /// <summary>Certificates and CA files are configuration: relative paths start in the config directory.</summary>
    public string ResolveConfigPath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(ConfigDirectory, path));

    public string ResolveDataPath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(DataDirectory, path));
}

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
}

/// <summary><c>Gateway:Tls</c>: the server certificate of every https listener (PEM files).</summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate (chain), relative to the config directory.</summary>
    public string? Certificate { get; set; }

    /// <summary>PEM private key, relative to the config directory.</summary>
    public string? Key { get; set; }
}

/// <summary><c>Gateway:Admin</c>: who may use the admin API.</summary>
public sealed class AdminOptions
{
    /// <summary>
    /// File holding the operators' bearer token (one line). When set, every <c>/admin/*</c> endpoint
    /// requires <c>Authorization: Bearer &lt;token&gt;</c>; health, readiness, metrics and the JWKS stay open.
    /// Relative to the data directory. Unset: the admin API relies on the listener being private.
    /// </summary>
    public string? TokenFile { get; set; }
}

/// <summary><c>Gateway:Redis</c>: shared state for replicas (rate limits, revocations). Unset: in memory, one node.</summary>
public sealed class RedisOptions
{
    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379". Empty: no Redis.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long a rate-limit decision may wait for Redis before the work type's failure mode decides.</summary>
    public int TimeoutMilliseconds { get; set; } = 100;

    /// <summary>Prefix of every key and channel the gateway uses.</summary>
    public string KeyPrefix { get; set; } = "agentperimeter";
}

public sealed class LoggingOptions
{
    /// <summary>Compact JSON logs on standard output.</summary>
    public bool Console { get; set; } = true;

    /// <summary>Also write compact JSON logs to this file (relative to the data directory).</summary>
    public string? File { get; set; }

    /// <summary>Minimum level: Verbose, Debug, Information, Warning, Error, Fatal.</summary>
    public string MinimumLevel { get; set; } = "Information";
}
