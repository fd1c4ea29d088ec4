using System.Collections.Frozen;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>A declared reverse tunnel: its name and where its connectors' credential lives (never the value).</summary>
public sealed class TunnelDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required ISecretProvider Provider { get; init; }
    public required string Location { get; init; }

    public SecretRead ReadCredential() => Provider.Read(Location);
}
