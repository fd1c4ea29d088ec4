using System.Collections.Frozen;

namespace AgentPerimeter.Gateway.Secrets;

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
