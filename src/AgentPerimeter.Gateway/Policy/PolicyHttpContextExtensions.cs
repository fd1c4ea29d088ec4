namespace AgentPerimeter.Gateway.Policy;

public static class PolicyHttpContextExtensions
{
    /// <summary>The policy this action is decided by: read once when the action opened, never re-read.</summary>
    public static PerimeterPolicy GetPolicy(this HttpContext context) =>
        context.Features.Get<PolicySnapshot>()?.Policy
        ?? throw new InvalidOperationException("The policy snapshot middleware has not run for this request.");
}
