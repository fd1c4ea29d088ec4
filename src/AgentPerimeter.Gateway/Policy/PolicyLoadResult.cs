using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>The result of loading a policy: a compiled policy, or every error found, never half of each.</summary>
public sealed record PolicyLoadResult(PerimeterPolicy? Policy, IReadOnlyList<string> Errors)
{
    public bool IsValid => Policy is not null && Errors.Count == 0;
}
