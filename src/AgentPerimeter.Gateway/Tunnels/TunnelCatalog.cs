using System.Collections.Frozen;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// <c>Gateway:Tunnels</c>: the tunnels connectors may serve, each with its own connector credential
/// from the secret store, e.g.
/// <c>"crm-mcp": { "Credential": { "Kind": "file", "Path": "secrets/tunnel-crm-mcp" } }</c>.
/// A cluster destination <c>tunnel://crm-mcp</c> forwards over that tunnel's connections.
/// </summary>
public static partial class TunnelCatalog
{
    public const string Scheme = "tunnel";
    private static readonly string[] TunnelKeys = ["Description", "Credential"];

    /// <summary>Tunnel names are DNS labels: they become host names inside the forwarder.</summary>
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    public static partial Regex NamePattern();

    public static FrozenDictionary<string, TunnelDefinition> Load(IConfigurationSection section, SecretLoadContext context, List<string> errors)
    {
        var tunnels = new Dictionary<string, TunnelDefinition>(StringComparer.Ordinal);
        foreach (var tunnel in section.GetChildren())
        {
            var name = tunnel.Key;
            Policy.ConfigReader.CheckKeys(tunnel, TunnelKeys, errors);
            if (!NamePattern().IsMatch(name))
            {
                errors.Add($"{tunnel.Path}: tunnel name '{name}' must be a DNS label (lower-case letters, digits and '-', at most 63 characters).");
                continue;
            }
            var source = tunnel.GetSection("Credential");
            var provider = context.Providers.FirstOrDefault(p => string.Equals(p.Kind, source["Kind"], StringComparison.OrdinalIgnoreCase));
            if (provider is null)
            {
                errors.Add($"{source.Path}:Kind: tunnel '{name}' needs its connectors' credential from a secret source: {string.Join(", ", context.Providers.Select(p => $"\"{p.Kind}\""))}.");
                continue;
            }
            var (location, error) = provider.Describe(source, context.BaseDirectory);
            if (location is null)
            {
                errors.Add($"{source.Path}: tunnel '{name}': {error}.");
                continue;
            }
            if (context.ResolveValues)
            {
                var read = provider.Read(location);
                if (read.Error is { } readError)
                    errors.Add($"{source.Path}: the credential of tunnel '{name}' (source {provider.Kind} '{location}') is missing: {readError}.");
                else if (read.Value!.Length < 16)
                    errors.Add($"{source.Path}: the credential of tunnel '{name}' is shorter than 16 characters; use a long random value (e.g. openssl rand -hex 32).");
            }
            tunnels[name] = new TunnelDefinition { Name = name, Description = tunnel["Description"], Provider = provider, Location = location };
        }
        return tunnels.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The tunnel a destination address names (<c>tunnel://NAME</c> or <c>tunnel://NAME/</c>), or null.</summary>
    public static string? TunnelOf(string? address)
    {
        if (address is null || !address.StartsWith(Scheme + "://", StringComparison.OrdinalIgnoreCase))
            return null;
        return address[(Scheme.Length + 3)..].TrimEnd('/').ToLowerInvariant();
    }
}
