using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// Startup validation of everything the gateway reads: the <c>Gateway</c> section (unknown keys,
/// values that do not parse, listeners) and the perimeter policy. Every error is collected so an
/// operator fixes them in one pass; the gateway does not start while any remains.
/// </summary>
public static class ConfigurationValidator
{
    private static readonly Dictionary<string, object?> GatewaySchema = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Listeners"] = Keys("Agent", "Admin", "Tunnel", "Inbound"),
        ["Tls"] = Keys("Certificate", "Key"),
        ["Idempotency"] = Keys("Window", "PendingTimeout", "MaxRecordedBytes"),
        ["Approvals"] = Keys("Expiry"),
        ["Inbound"] = Keys("ClientCertificateAuthority", "Domain", "Servers"),
        ["Tunnels"] = null, // free-form names; checked by TunnelCatalog
        ["DataDirectory"] = null,
        ["MaxRequestBodyBytes"] = null,
        ["Identity"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Issuer"] = null, ["Audience"] = null, ["SigningKeyPath"] = null,
            ["DefaultTokenLifetime"] = null, ["MaxTokenLifetime"] = null, ["ClockSkew"] = null,
            ["External"] = Keys("Authority", "MetadataAddress", "Issuer", "Audience", "RequireHttpsMetadata",
                "AgentClaim", "SessionClaim", "WorkTypeClaim"),
        },
        ["Audit"] = Keys("Path"),
        ["Logging"] = Keys("Console", "File", "MinimumLevel"),
        ["Redis"] = Keys("ConnectionString", "TimeoutMilliseconds", "KeyPrefix"),
        ["Admin"] = Keys("TokenFile"),
    };

    public static (GatewayOptions? Options, List<string> Errors) Validate(IConfiguration configuration, string? configDirectory = null)
    {
        var errors = new List<string>();
        var section = configuration.GetSection(GatewayOptions.SectionName);
        CheckKeys(section, GatewaySchema, errors);

        GatewayOptions? options = null;
        try
        {
            options = section.Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException ex)
        {
            errors.Add($"{GatewayOptions.SectionName}: {ex.Message} Durations are written like \"00:15:00\"; sizes and flags as plain numbers and true/false.");
        }

        var secretContext = SecretLoadContext.Default with { BaseDirectory = configDirectory ?? Directory.GetCurrentDirectory() };
        if (options is not null)
        {
            if (configDirectory is not null)
                options.ConfigDirectory = configDirectory;
            var listeners = new (string Key, string? Url)[]
            {
                ("Agent", options.Listeners.Agent), ("Admin", options.Listeners.Admin),
                ("Tunnel", options.Listeners.Tunnel), ("Inbound", options.Listeners.Inbound),
            };
            foreach (var (key, url) in listeners)
            {
                if (url is not null)
                    CheckUrl(url, $"Gateway:Listeners:{key}", errors);
            }
            foreach (var group in listeners.Where(l => l.Url is not null && !l.Url.EndsWith(":0", StringComparison.Ordinal)).GroupBy(l => l.Url))
            {
                if (group.Count() > 1)
                    errors.Add($"Gateway:Listeners: {string.Join(" and ", group.Select(l => l.Key))} share '{group.Key}'; each listener needs its own address, so no caller reaches another listener's endpoints.");
            }
            if (options.Listeners.Tunnel is { } tunnelUrl && tunnelUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase)
                && Uri.TryCreate(tunnelUrl, UriKind.Absolute, out var tunnelUri) && !(tunnelUri.IsLoopback || tunnelUri.Host == "localhost"))
                errors.Add($"Gateway:Listeners:Tunnel: '{tunnelUrl}' would carry connector credentials and private traffic in clear text; use https:// (with Gateway:Tls) or a loopback address.");
            CheckTls(options, listeners, errors);
            CheckInbound(options, errors);
            options.TunnelDefinitions = Tunnels.TunnelCatalog.Load(section.GetSection("Tunnels"), secretContext, errors);
            if (options.TunnelDefinitions.Count > 0 && options.Listeners.Tunnel is null)
                errors.Add("Gateway:Listeners:Tunnel: tunnels are declared in Gateway:Tunnels, so connectors need a listener to dial, e.g. \"https://0.0.0.0:8443\".");
            foreach (var cluster in configuration.GetSection("ReverseProxy:Clusters").GetChildren())
            {
                foreach (var destination in cluster.GetSection("Destinations").GetChildren())
                {
                    if (Tunnels.TunnelCatalog.TunnelOf(destination["Address"]) is { } tunnel && !options.TunnelDefinitions.ContainsKey(tunnel))
                        errors.Add($"{destination.Path}:Address: tunnel '{tunnel}' is not declared in Gateway:Tunnels (each tunnel needs its connectors' credential there).");
                }
            }
            if (options.Idempotency.Window <= TimeSpan.Zero || options.Idempotency.PendingTimeout <= TimeSpan.Zero || options.Idempotency.MaxRecordedBytes <= 0)
                errors.Add("Gateway:Idempotency: Window and PendingTimeout must be positive durations and MaxRecordedBytes a positive size.");
            if (options.Approvals.Expiry <= TimeSpan.Zero)
                errors.Add("Gateway:Approvals:Expiry: must be a positive duration (default 01:00:00).");
            if (options.MaxRequestBodyBytes <= 0)
                errors.Add("Gateway:MaxRequestBodyBytes: must be a positive number of bytes (default 10485760).");
            var id = options.Identity;
            if (id.DefaultTokenLifetime <= TimeSpan.Zero || id.DefaultTokenLifetime > id.MaxTokenLifetime)
                errors.Add("Gateway:Identity:DefaultTokenLifetime: must be positive and no longer than MaxTokenLifetime.");
            if (id.External is { } ext && string.IsNullOrWhiteSpace(ext.Authority) && string.IsNullOrWhiteSpace(ext.MetadataAddress))
                errors.Add("Gateway:Identity:External: set Authority (OIDC discovery) or MetadataAddress, or remove the External section.");
            if (id.External is { } ext2 && (ext2.Issuer ?? ext2.Authority) == id.Issuer)
                errors.Add("Gateway:Identity:External:Issuer: must differ from Gateway:Identity:Issuer, so each key vouches only for its own issuer.");
            if (options.Admin.TokenFile is { } tokenFile)
            {
                var path = options.ResolveDataPath(tokenFile);
                if (!File.Exists(path) || File.ReadAllText(path).Trim().Length < 16)
                    errors.Add($"Gateway:Admin:TokenFile: '{path}' must exist and hold a token of at least 16 characters (e.g. openssl rand -hex 32 > {path}).");
            }
            if (options.Redis.TimeoutMilliseconds is < 1 or > 10_000)
                errors.Add("Gateway:Redis:TimeoutMilliseconds: must be between 1 and 10000 (default 100).");
            if (!Enum.TryParse<Serilog.Events.LogEventLevel>(options.Logging.MinimumLevel, ignoreCase: true, out _))
                errors.Add($"Gateway:Logging:MinimumLevel: '{options.Logging.MinimumLevel}' is not a level. Use Verbose, Debug, Information, Warning, Error or Fatal.");
        }

        // Two routes matching the same path, methods and hosts make every request to it fail at routing
        // time (an ambiguous match); say so at startup instead.
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in configuration.GetSection("ReverseProxy:Routes").GetChildren())
        {
            var match = route.GetSection("Match");
            var key = string.Join("|", match["Path"], string.Join(",", match.GetSection("Methods").GetChildren().Select(c => c.Value).Order()),
                string.Join(",", match.GetSection("Hosts").GetChildren().Select(c => c.Value).Order()), route["Order"]);
            if (match["Path"] is not null && seen.TryGetValue(key, out var other))
                errors.Add($"ReverseProxy:Routes:{route.Key}:Match: routes '{other}' and '{route.Key}' match the same requests ('{match["Path"]}'); give one a different Path, Methods, Hosts or Order.");
            else
                seen[key] = route.Key;
        }

        var policy = PolicyLoader.Load(configuration, PolicyStore.KnownRoutes(configuration), PolicySections(secretContext));
        errors.AddRange(policy.Errors);
        return (options, errors);
    }

    /// <summary>Every feature's policy section, as the running gateway loads them (values read, nothing remembered).</summary>
    public static IPolicySectionLoader[] PolicySections(Secrets.SecretLoadContext secretContext) =>
        [Secrets.SecretsServiceCollectionExtensions.PolicySection(secretContext), RateLimiting.RateLimitingServiceCollectionExtensions.PolicySection()];

    private static void CheckUrl(string url, string key, List<string> errors)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Port < 0
            || !(uri.Host is "localhost" or "0.0.0.0" || System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _)))
            errors.Add($"{key}: '{url}' is not a listener address. Use http://IP:PORT or https://IP:PORT (an IP address, 0.0.0.0 or localhost), e.g. http://127.0.0.1:8080 (port 0 picks a free port).");
    }

    private static void CheckTls(GatewayOptions options, (string Key, string? Url)[] listeners, List<string> errors)
    {
        var https = listeners.Where(l => l.Url?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) == true).Select(l => l.Key).ToList();
        if (https.Count == 0)
            return;
        var tls = options.Tls;
        if (string.IsNullOrWhiteSpace(tls.Certificate) || string.IsNullOrWhiteSpace(tls.Key))
        {
            errors.Add($"Gateway:Tls: the {string.Join(", ", https)} listener(s) use https, so set Gateway:Tls:Certificate and Gateway:Tls:Key (PEM files).");
            return;
        }
        try
        {
            using var certificate = ListenerCertificates.LoadServerCertificate(options);
            if (!certificate.HasPrivateKey)
                errors.Add("Gateway:Tls:Key: the key does not belong to the certificate.");
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException or UnauthorizedAccessException)
        {
            errors.Add($"Gateway:Tls: the certificate '{options.ResolveConfigPath(tls.Certificate)}' with key '{options.ResolveConfigPath(tls.Key)}' cannot be loaded ({ex.GetType().Name}: {ex.Message}).");
        }
    }

    private static void CheckInbound(GatewayOptions options, List<string> errors)
    {
        var inbound = options.Inbound;
        if (options.Listeners.Inbound is null)
            return;
        if (!options.Listeners.Inbound.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
            errors.Add("Gateway:Listeners:Inbound: the inbound listener terminates mutual TLS, so it must be https://IP:PORT.");
        if (string.IsNullOrWhiteSpace(inbound.ClientCertificateAuthority))
            errors.Add("Gateway:Inbound:ClientCertificateAuthority: name the PEM file of the CA whose client certificates the inbound listener accepts.");
        else
        {
            var path = options.ResolveConfigPath(inbound.ClientCertificateAuthority);
            try
            {
                var collection = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
                collection.ImportFromPemFile(path);
                if (collection.Count == 0)
                    errors.Add($"Gateway:Inbound:ClientCertificateAuthority: '{path}' holds no certificate.");
            }
            catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            {
                errors.Add($"Gateway:Inbound:ClientCertificateAuthority: '{path}' cannot be read as PEM certificates ({ex.GetType().Name}).");
            }
        }
        if (string.IsNullOrWhiteSpace(inbound.Domain) || Uri.CheckHostName(inbound.Domain.Trim('.')) != UriHostNameType.Dns)
            errors.Add("Gateway:Inbound:Domain: set the tunnel domain; requests must be for <server>.<domain>, e.g. \"mcp.example.com\".");
        if (inbound.Servers.Count == 0)
            errors.Add("Gateway:Inbound:Servers: list the server names served, e.g. [ \"crm\" ] for crm.<domain>.");
        foreach (var server in inbound.Servers)
        {
            if (!Tunnels.TunnelCatalog.NamePattern().IsMatch(server ?? ""))
                errors.Add($"Gateway:Inbound:Servers: '{server}' is not a DNS label (lower-case letters, digits and '-').");
        }
    }

    private static Dictionary<string, object?> Keys(params string[] keys) =>
        keys.ToDictionary(k => k, _ => (object?)null, StringComparer.OrdinalIgnoreCase);

    private static void CheckKeys(IConfigurationSection section, Dictionary<string, object?> schema, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            if (!schema.TryGetValue(child.Key, out var nested))
                errors.Add($"{child.Path}: unknown key '{child.Key}'. Known keys here: {string.Join(", ", schema.Keys)}.");
            else if (nested is Dictionary<string, object?> inner)
                CheckKeys(child, inner, errors);
        }
    }
}

/// <summary>The configuration is invalid; <see cref="Errors"/> lists every problem found.</summary>
public sealed class ConfigurationValidationException(IReadOnlyList<string> errors)
    : Exception($"The gateway configuration is invalid ({errors.Count} errors):{Environment.NewLine}  - " + string.Join(Environment.NewLine + "  - ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
