using System.Collections.Frozen;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>How a binding puts a secret on the forwarded request.</summary>
public enum InjectionKind
{
    Bearer,
    Header,
    Basic,
    Query,
}

/// <summary>One place a secret is injected: a route and how.</summary>
public sealed class SecretBinding
{
    public required string Secret { get; init; }
    public required string Route { get; init; }
    public required InjectionKind Kind { get; init; }
    /// <summary>Header name (header) or query parameter name (query).</summary>
    public string? Name { get; init; }
    /// <summary>Header value format with <c>{secret}</c> (header).</summary>
    public string Format { get; init; } = "{secret}";
    /// <summary>User name (basic).</summary>
    public string? Username { get; init; }
    /// <summary>What happens to a work type not entitled to the secret: forward without it, or refuse.</summary>
    public bool RefuseWhenNotEntitled { get; init; }

    public string Describe() => Kind switch
    {
        InjectionKind.Bearer => "Authorization: Bearer",
        InjectionKind.Header => $"{Name}: {Format}",
        InjectionKind.Basic => $"Authorization: Basic ({Username}:secret)",
        _ => $"query ?{Name}=",
    };
}

/// <summary>A declared secret: its name, where its value lives, where it is injected. Never its value.</summary>
public sealed class SecretDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required ISecretProvider Provider { get; init; }
    public required string Location { get; init; }
    public required IReadOnlyList<SecretBinding> Bindings { get; init; }

    public SecretRead Read() => Provider.Read(Location);
}

/// <summary>The declared secrets, their bindings by route, and the agent credential headers to strip.</summary>
public sealed class SecretCatalog : Policy.IPolicySection<SecretCatalog>
{
    public static SecretCatalog Empty { get; } = new()
    {
        Secrets = FrozenDictionary<string, SecretDefinition>.Empty,
        BindingsByRoute = FrozenDictionary<string, SecretBinding[]>.Empty,
        StripHeaders = ["Authorization", "Proxy-Authorization", "Cookie", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-URL", "X-Rewrite-URL", "Forwarded"],
    };

    public required FrozenDictionary<string, SecretDefinition> Secrets { get; init; }
    public required FrozenDictionary<string, SecretBinding[]> BindingsByRoute { get; init; }

    /// <summary>Request headers removed before forwarding: the agent's credentials never go upstream.</summary>
    public required string[] StripHeaders { get; init; }

    /// <summary>Secrets the gateway may inject for each work type's actions (<c>WorkTypes:NAME:Secrets</c>).</summary>
    public FrozenDictionary<string, FrozenSet<string>> EntitledByWorkType { get; init; } = FrozenDictionary<string, FrozenSet<string>>.Empty;

    /// <summary>The secrets a work type may have injected.</summary>
    public FrozenSet<string> EntitledFor(string workType) => EntitledByWorkType.GetValueOrDefault(workType) ?? FrozenSet<string>.Empty;
}
