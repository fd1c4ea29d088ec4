using System.Net;

namespace AgentPerimeter.Connector;

/// <summary>What a connector serves and where it dials. Read from the command line or PERIMETER_CONNECTOR_* variables.</summary>
public sealed class ConnectorOptions
{
    /// <summary>The gateway's tunnel listener(s), e.g. https://gateway.example.com:8443 (several: one per replica).</summary>
    public required IReadOnlyList<Uri> Gateways { get; init; }

    /// <summary>The tunnel this connector serves, as declared in the gateway's <c>Gateway:Tunnels</c>.</summary>
    public required string Tunnel { get; init; }

    /// <summary>The connector credential for that tunnel (never logged).</summary>
    public required string Credential { get; init; }

    /// <summary>The private server: an http:// address, or a Unix socket (<c>unix:/run/mcp.sock</c>).</summary>
    public required Uri TargetPrefix { get; init; }

    /// <summary>Set when the target is a Unix domain socket.</summary>
    public string? TargetSocket { get; init; }

    /// <summary>Idle connections kept open to each gateway (ready for the next requests).</summary>
    public int IdleConnections { get; init; } = 4;

    /// <summary>Most connections open to each gateway at once (idle and busy).</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>PEM CA file trusted for the gateway's certificate (besides the system's roots).</summary>
    public string? TrustedCaFile { get; init; }

    /// <summary>This instance's id in the gateway's records.</summary>
    public string InstanceId { get; init; } = $"{Dns.GetHostName()}-{Environment.ProcessId}";

    public const string Usage = """
        agentperimeter-connector: serves a private HTTP or MCP server to an AgentPerimeter gateway, dialing out.

          --gateway URL          the gateway's tunnel listener, e.g. https://gateway.example.com:8443 (repeat with commas for replicas)
          --tunnel NAME          the tunnel to serve (declared in the gateway's Gateway:Tunnels)
          --target ADDRESS       the private server: http://127.0.0.1:7000 or unix:/run/mcp/server.sock
          --credential-file F    file holding the connector credential (or PERIMETER_CONNECTOR_CREDENTIAL)
          --connections N        idle connections kept ready per gateway (default 4)
          --max-connections N    most connections per gateway (default 256)
          --ca FILE              PEM CA to trust for the gateway's certificate
          --id ID                this instance's id in the gateway's audit log (default host-pid)
        """;

    /// <summary>Reads and checks the options; every problem is listed.</summary>
    public static (ConnectorOptions? Options, List<string> Errors) Read(IConfiguration config)
    {
        var errors = new List<string>();
        string? Get(string key) => config[key] ?? config["PERIMETER_CONNECTOR_" + key.Replace('-', '_').ToUpperInvariant()];

        var gateways = new List<Uri>();
        foreach (var raw in (Get("gateway") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(raw, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "ws" or "wss")
                gateways.Add(uri);
            else
                errors.Add($"--gateway: '{raw}' is not an http(s):// address of the gateway's tunnel listener.");
        }
        if (gateways.Count == 0 && errors.Count == 0)
            errors.Add("--gateway: required (the gateway's tunnel listener, e.g. https://gateway.example.com:8443).");

        var tunnel = Get("tunnel");
        if (string.IsNullOrWhiteSpace(tunnel))
            errors.Add("--tunnel: required (the tunnel name declared in the gateway's Gateway:Tunnels).");

        string? credential = null;
        if (Get("credential-file") is { } file)
        {
            try
            {
                credential = File.ReadAllText(file).Trim();
                if (credential.Length == 0)
                    errors.Add($"--credential-file: '{file}' is empty.");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add($"--credential-file: '{file}' cannot be read ({ex.GetType().Name}).");
            }
        }
        else if (Environment.GetEnvironmentVariable("PERIMETER_CONNECTOR_CREDENTIAL") is { Length: > 0 } env)
            credential = env.Trim();
        else
            errors.Add("--credential-file: required (or set PERIMETER_CONNECTOR_CREDENTIAL); the credential comes from the gateway operator.");

        Uri? prefix = null;
        string? socket = null;
        var target = Get("target");
        if (string.IsNullOrWhiteSpace(target))
            errors.Add("--target: required (http://127.0.0.1:PORT or unix:/path/to/socket).");
        else if (target.StartsWith("unix:", StringComparison.Ordinal))
        {
            socket = target["unix:".Length..];
            prefix = new Uri("http://localhost/");
            if (socket.Length == 0)
                errors.Add("--target: unix: needs the socket path, e.g. unix:/run/mcp/server.sock.");
        }
        else if (Uri.TryCreate(target, UriKind.Absolute, out var t) && t.Scheme is "http" or "https")
            prefix = t;
        else
            errors.Add($"--target: '{target}' is not http(s)://HOST:PORT or unix:/PATH.");

        int idle = ReadInt(Get("connections"), 4, 1, 64, "--connections", errors);
        int max = ReadInt(Get("max-connections"), 256, 1, 4096, "--max-connections", errors);
        if (max < idle)
            errors.Add("--max-connections: must be at least --connections.");
        var ca = Get("ca");
        if (ca is not null && !File.Exists(ca))
            errors.Add($"--ca: '{ca}' does not exist.");

        if (errors.Count > 0)
            return (null, errors);
        return (new ConnectorOptions
        {
            Gateways = gateways,
            Tunnel = tunnel!,
            Credential = credential!,
            TargetPrefix = prefix!,
            TargetSocket = socket,
            IdleConnections = idle,
            MaxConnections = max,
            TrustedCaFile = ca,
            InstanceId = Get("id") ?? $"{Dns.GetHostName()}-{Environment.ProcessId}",
        }, errors);
    }

    private static int ReadInt(string? raw, int fallback, int min, int max, string name, List<string> errors)
    {
        if (raw is null)
            return fallback;
        if (int.TryParse(raw, out var value) && value >= min && value <= max)
            return value;
        errors.Add($"{name}: '{raw}' must be a number from {min} to {max}.");
        return fallback;
    }
}
