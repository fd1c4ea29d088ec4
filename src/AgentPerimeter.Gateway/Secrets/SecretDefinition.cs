using System.Collections.Frozen;

namespace AgentPerimeter.Gateway.Secrets;

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
