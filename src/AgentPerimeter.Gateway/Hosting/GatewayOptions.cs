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

    /// <summary>The largest MCP message from a server (a JSON answer, one server-sent event) the gateway inspects and relays.</summary>
    public int MaxInspectedMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How long an upstream may stay silent before an action times out (504 <c>upstream_timeout</c>), for
    /// every cluster that sets no <c>HttpRequest.ActivityTimeout</c> of its own. Default 10 minutes.
    /// </summary>
    public TimeSpan UpstreamActivityTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// On SIGTERM, how long the gateway keeps serving with <c>/readyz</c> answering 503 before it stops
    /// taking connections, so load balancers take it out of rotation first (lame duck). Default 0.
    /// </summary>
    public TimeSpan ShutdownDrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>After the drain delay: how long in-flight actions may take to finish before the gateway stops anyway.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

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
    public Egress.EgressOptions Egress { get; set; } = new();
    public OAuth.OAuthOptions OAuth { get; set; } = new();

    /// <summary>Host names the agent listener serves; empty: any (set it when browsers could reach the gateway).</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Browser origins whose pages may call the agent listener; a request with any other <c>Origin</c> is refused.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>The declared tunnels (<c>Gateway:Tunnels</c>), loaded and checked by the validator.</summary>
    internal System.Collections.Frozen.FrozenDictionary<string, Tunnels.TunnelDefinition> TunnelDefinitions { get; set; } =
        System.Collections.Frozen.FrozenDictionary<string, Tunnels.TunnelDefinition>.Empty;

    /// <summary>The registered OAuth clients (<c>Gateway:OAuth:Clients</c>), loaded and checked by the validator.</summary>
    internal System.Collections.Frozen.FrozenDictionary<string, OAuth.OAuthClient> OAuthClients { get; set; } =
        System.Collections.Frozen.FrozenDictionary<string, OAuth.OAuthClient>.Empty;

    /// <summary>Certificates and CA files are configuration: relative paths start in the config directory.</summary>
    public string ResolveConfigPath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(ConfigDirectory, path));

    public string ResolveDataPath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(DataDirectory, path));
}
