using System.Collections.Frozen;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>The tunnels declared in <c>Gateway:Tunnels</c>, loaded and checked at startup.</summary>
public sealed class DeclaredTunnels(FrozenDictionary<string, TunnelDefinition> definitions)
{
    public FrozenDictionary<string, TunnelDefinition> Definitions { get; } = definitions;
}
