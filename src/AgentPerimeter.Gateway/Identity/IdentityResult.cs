namespace AgentPerimeter.Gateway.Identity;

/// <summary>A resolved identity or the reason there is none (a value, not an exception).</summary>
public readonly record struct IdentityResult(AgentIdentity? Identity, string? Error, string? Message)
{
    public static IdentityResult Fail(string error, string message) => new(null, error, message);
}
