namespace AgentPerimeter.Gateway.Policy;

/// <summary>What a section loader may see: the <c>Perimeter</c> section, the routes, the work types, the id space and the error list.</summary>
public sealed class PolicySectionContext(IConfigurationSection root, IReadOnlySet<string>? knownRoutes, IReadOnlyList<string> workTypes, ISet<string> ids, List<string> errors)
{
    public IConfigurationSection Root { get; } = root;

    /// <summary>Route ids of the proxy configuration; null when not checked.</summary>
    public IReadOnlySet<string>? KnownRoutes { get; } = knownRoutes;

    public IReadOnlyList<string> WorkTypes { get; } = workTypes;

    /// <summary>Rule and limit ids share one space: an id names one thing in records and metrics.</summary>
    public ISet<string> Ids { get; } = ids;

    public List<string> Errors { get; } = errors;
}
