namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Loads the part of <c>perimeter.json</c> a feature owns, so the policy snapshot holds it without the
/// policy knowing the feature: the feature registers a loader, the loader names its keys (so unknown
/// keys stay errors) and compiles its section with every error it finds.
/// </summary>
public interface IPolicySectionLoader
{
    /// <summary>Keys of the <c>Perimeter</c> section this loader reads.</summary>
    IReadOnlyCollection<string> RootKeys { get; }

    /// <summary>Keys of each work type this loader reads.</summary>
    IReadOnlyCollection<string> WorkTypeKeys { get; }

    /// <summary>Compiles the section; errors go to <see cref="PolicySectionContext.Errors"/>.</summary>
    object Load(PolicySectionContext context);
}
