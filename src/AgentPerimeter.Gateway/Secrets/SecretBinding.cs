using System.Collections.Frozen;

namespace AgentPerimeter.Gateway.Secrets;

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
