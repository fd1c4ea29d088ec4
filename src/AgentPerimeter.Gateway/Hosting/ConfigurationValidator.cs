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
    /// <summary><c>Gateway</c> sections whose keys are names chosen by the operator (checked by their own loaders).</summary>
    private static readonly IReadOnlySet<string> FreeFormSections = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Tunnels" };

    /// <summary>
    /// Each feature's own validator (the same ones registered with <c>ValidateOnStart</c>), run here so a
    /// startup or <c>--check</c> reports every error of every feature at once.
    /// </summary>
    private static IEnumerable<string> FeatureFailures(GatewayOptions options) =>
        Failures(new GatewayOptionsValidator().Validate(null, options))
            .Concat(Failures(new Identity.IdentityOptionsValidator().Validate(null, options.Identity)))
            .Concat(Failures(new Idempotency.IdempotencyOptionsValidator().Validate(null, options.Idempotency)))
            .Concat(Failures(new Approvals.ApprovalOptionsValidator().Validate(null, options.Approvals)));

    private static IEnumerable<string> Failures(Microsoft.Extensions.Options.ValidateOptionsResult result) => result.Failures ?? [];

    private static void CheckOAuth(GatewayOptions options, IConfiguration configuration, List<string> errors)
    {
        var oauth = options.OAuth;
        if (oauth.PublicUrl is { Length: > 0 } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath.TrimEnd('/').Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0))
            errors.Add($"Gateway:OAuth:PublicUrl: '{url}' must be the agent listener's public base URL, scheme and host only, e.g. \"https://perimeter.example.com\".");
        if (oauth.TokenLifetime <= TimeSpan.Zero || oauth.TokenLifetime > options.Identity.MaxTokenLifetime)
            errors.Add("Gateway:OAuth:TokenLifetime: must be positive and no longer than Gateway:Identity:MaxTokenLifetime.");
        if (options.OAuthClients.Count > 0 && oauth.PublicUrl is not { Length: > 0 } && options.AllowedHosts.Count == 0)
            errors.Add("Gateway:OAuth: with clients registered, set PublicUrl (the issuer and the base of the resources tokens are bound to), or Gateway:AllowedHosts, so the Host header they would otherwise come from is one of this perimeter's.");
        var workTypes = configuration.GetSection("Perimeter:WorkTypes");
        foreach (var client in options.OAuthClients.Values)
        {
            foreach (var workType in client.WorkTypes)
            {
                if (!workTypes.GetSection(workType).Exists())
                    errors.Add($"Gateway:OAuth:Clients:{client.Id}:WorkTypes: work type '{workType}' is not defined in Perimeter:WorkTypes.");
            }
        }
    }

    public static (GatewayOptions? Options, List<string> Errors) Validate(IConfiguration configuration, string? configDirectory = null)
    {
        var errors = new List<string>();
        var section = configuration.GetSection(GatewayOptions.SectionName);
        // The options classes are the schema: a key no options property binds is an error.
        OptionsKeys.Check(section, typeof(GatewayOptions), errors, FreeFormSections);

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
            foreach (var failure in FeatureFailures(options))
                errors.Add(failure);
            options.TunnelDefinitions = Tunnels.TunnelCatalog.Load(section.GetSection("Tunnels"), secretContext, errors);
            options.OAuthClients = OAuth.OAuthClientCatalog.Load(section.GetSection("OAuth:Clients"), secretContext, errors);
            CheckOAuth(options, configuration, errors);
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
        }

        Policy.RouteConfigCheck.CheckRoutes(configuration, errors);

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
        [Secrets.SecretsServiceCollectionExtensions.PolicySection(secretContext), RateLimiting.RateLimitingServiceCollectionExtensions.PolicySection(),
            Egress.EgressServiceCollectionExtensions.PolicySection()];
}
