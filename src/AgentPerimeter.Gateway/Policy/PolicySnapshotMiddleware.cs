using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Reads the running policy once, when the action opens, and carries it on the request: every stage
/// of this action decides on the same version, and the record names the version that decided.
/// </summary>
internal sealed class PolicySnapshotMiddleware(RequestDelegate next, PolicyStore store)
{
    public Task InvokeAsync(HttpContext context)
    {
        var policy = store.Current;
        context.Features.Set(new PolicySnapshot(policy));
        context.GetAction().PolicyVersion = policy.Version;
        return next(context);
    }
}
