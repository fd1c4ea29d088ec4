namespace AgentPerimeter.Gateway.Proxy;

/// <summary>The agent listener's host and browser-origin allowlists (<c>Gateway:AllowedHosts</c>, <c>Gateway:AllowedOrigins</c>).</summary>
internal sealed class OriginGuardOptions(IEnumerable<string> hosts, IEnumerable<string> origins)
{
    public IReadOnlySet<string> AllowedHosts { get; } = hosts.ToHashSet(StringComparer.OrdinalIgnoreCase);

    public IReadOnlySet<string> AllowedOrigins { get; } = origins.Select(o => o.TrimEnd('/')).ToHashSet(StringComparer.OrdinalIgnoreCase);
}
