using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>The configuration is invalid; <see cref="Errors"/> lists every problem found.</summary>
public sealed class ConfigurationValidationException(IReadOnlyList<string> errors)
    : Exception($"The gateway configuration is invalid ({errors.Count} errors):{Environment.NewLine}  - " + string.Join(Environment.NewLine + "  - ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
