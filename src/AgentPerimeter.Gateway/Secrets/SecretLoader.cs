using System.Collections.Frozen;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Validates <c>Perimeter:Secrets</c> and <c>Perimeter:StripHeaders</c>. Every declared secret must be
/// readable at load time: a missing one is an error naming the secret and its source, never a value.
/// </summary>
internal static class SecretLoader
{
    private static readonly string[] SecretKeys = ["Description", "Source", "Bindings"];
    private static readonly string[] BindingKeys = ["Route", "Inject", "Name", "Format", "Username", "WhenNotEntitled"];
    // Agent credentials, and headers that make some servers act on another method or URL than the one checked.
    private static readonly string[] AlwaysStripped =
    [
        "Authorization", "Proxy-Authorization", "Cookie",
        "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-URL", "X-Rewrite-URL", "Forwarded",
    ];

    public static SecretCatalog Load(IConfigurationSection root, IReadOnlySet<string>? knownRoutes, SecretLoadContext context, List<string> errors)
    {
        var secrets = new Dictionary<string, SecretDefinition>(StringComparer.Ordinal);
        var bindings = new List<SecretBinding>();

        foreach (var section in root.GetSection("Secrets").GetChildren())
        {
            var name = section.Key;
            ConfigReader.CheckKeys(section, SecretKeys, errors);
            var source = section.GetSection("Source");
            var kind = source["Kind"];
            var provider = context.Providers.FirstOrDefault(p => string.Equals(p.Kind, kind, StringComparison.OrdinalIgnoreCase));
            if (provider is null)
            {
                errors.Add($"{source.Path}:Kind: secret '{name}' needs a source kind: {string.Join(", ", context.Providers.Select(p => $"\"{p.Kind}\""))}.");
                continue;
            }
            var (location, error) = provider.Describe(source, context.BaseDirectory);
            if (location is null)
            {
                errors.Add($"{source.Path}: secret '{name}': {error}.");
                continue;
            }
            if (context.ResolveValues && provider.Read(location).Error is { } readError)
                errors.Add($"{section.Path}: secret '{name}' (source {provider.Kind} '{location}') is missing: {readError}.");

            var own = new List<SecretBinding>();
            foreach (var b in section.GetSection("Bindings").GetChildren())
            {
                ConfigReader.CheckKeys(b, BindingKeys, errors);
                var route = b["Route"];
                if (string.IsNullOrWhiteSpace(route))
                    errors.Add($"{b.Path}:Route: name the route this binding injects '{name}' into.");
                // "egress:RULE" binds a secret to an inspected egress rule's requests.
                else if (knownRoutes is not null && !knownRoutes.Contains(route) && !route.StartsWith("egress:", StringComparison.Ordinal))
                    errors.Add($"{b.Path}:Route: route '{route}' is not defined in ReverseProxy:Routes.");
                InjectionKind? inject = b["Inject"] switch
                {
                    "bearer" => InjectionKind.Bearer,
                    "header" => InjectionKind.Header,
                    "basic" => InjectionKind.Basic,
                    "query" => InjectionKind.Query,
                    _ => null,
                };
                if (inject is null)
                    errors.Add($"{b.Path}:Inject: '{b["Inject"]}' is not an injection. Use \"bearer\", \"header\" (with Name, Format), \"basic\" (with Username) or \"query\" (with Name).");
                if (inject is InjectionKind.Header or InjectionKind.Query && string.IsNullOrWhiteSpace(b["Name"]))
                    errors.Add($"{b.Path}:Name: a {b["Inject"]} binding needs the {(inject == InjectionKind.Header ? "header" : "query parameter")} name.");
                if (inject == InjectionKind.Basic && string.IsNullOrWhiteSpace(b["Username"]))
                    errors.Add($"{b.Path}:Username: a basic binding needs the user name; the secret is the password.");
                var format = b["Format"] ?? "{secret}";
                if (!format.Contains("{secret}", StringComparison.Ordinal))
                    errors.Add($"{b.Path}:Format: must contain {{secret}}, e.g. \"token {{secret}}\".");
                var when = b["WhenNotEntitled"] ?? "forward";
                if (when is not ("forward" or "refuse"))
                    errors.Add($"{b.Path}:WhenNotEntitled: '{when}' is not a choice. Use \"forward\" (send the request without the secret) or \"refuse\" (403).");
                if (inject is not null && route is not null)
                {
                    own.Add(new SecretBinding
                    {
                        Secret = name,
                        Route = route,
                        Kind = inject.Value,
                        Name = b["Name"],
                        Format = format,
                        Username = b["Username"],
                        RefuseWhenNotEntitled = when == "refuse",
                    });
                }
            }
            if (own.Count == 0)
                errors.Add($"{section.Path}:Bindings: secret '{name}' is injected nowhere. Add a binding, e.g. {{ \"Route\": \"my-api\", \"Inject\": \"bearer\" }}.");
            bindings.AddRange(own);
            secrets[name] = new SecretDefinition { Name = name, Description = section["Description"], Provider = provider, Location = location, Bindings = own };
        }

        var strip = new List<string>(AlwaysStripped);
        foreach (var header in ConfigReader.ReadList(root, "StripHeaders", errors) ?? [])
        {
            if (string.IsNullOrWhiteSpace(header) || header.Any(c => c <= ' ' || c == ':'))
                errors.Add($"{root.Path}:StripHeaders: '{header}' is not a header name.");
            else if (!strip.Contains(header, StringComparer.OrdinalIgnoreCase))
                strip.Add(header);
        }

        return new SecretCatalog
        {
            Secrets = secrets.ToFrozenDictionary(StringComparer.Ordinal),
            BindingsByRoute = bindings.GroupBy(b => b.Route, StringComparer.OrdinalIgnoreCase)
                .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.OrdinalIgnoreCase),
            StripHeaders = [.. strip],
        };
    }
}
