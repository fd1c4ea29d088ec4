using AgentPerimeter.Gateway.Metrics;
using Microsoft.Extensions.Primitives;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>Thrown at startup only: the gateway must not start on an invalid policy.</summary>
public sealed class PolicyValidationException(IReadOnlyList<string> errors)
    : Exception($"The perimeter policy is invalid ({errors.Count} errors):{Environment.NewLine}  - " + string.Join(Environment.NewLine + "  - ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
