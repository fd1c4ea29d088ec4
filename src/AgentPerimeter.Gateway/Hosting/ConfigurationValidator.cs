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
        ["Listeners"] = Keys("Agent", "Admin"),
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

        if (options is not null)
        {
            CheckUrl(options.Listeners.Agent, "Gateway:Listeners:Agent", errors);
            CheckUrl(options.Listeners.Admin, "Gateway:Listeners:Admin", errors);
            if (options.Listeners.Agent == options.Listeners.Admin && !options.Listeners.Agent.EndsWith(":0", StringComparison.Ordinal))
                errors.Add("Gateway:Listeners: the agent and admin listeners must differ, so agents cannot reach admin endpoints.");
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

        var secretContext = SecretLoadContext.Default with { BaseDirectory = configDirectory ?? Directory.GetCurrentDirectory() };
        var policy = PolicyLoader.Load(configuration, PolicyStore.KnownRoutes(configuration), secretContext);
        errors.AddRange(policy.Errors);
        return (options, errors);
    }

    private static void CheckUrl(string url, string key, List<string> errors)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/" || uri.Port < 0
            || !(uri.Host is "localhost" or "0.0.0.0" || System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _)))
            errors.Add($"{key}: '{url}' is not a listener address. Use http://IP:PORT (an IP address, 0.0.0.0 or localhost), e.g. http://127.0.0.1:8080 (port 0 picks a free port).");
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
