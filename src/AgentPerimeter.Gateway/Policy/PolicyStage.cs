using AgentPerimeter.Gateway.Actions;
using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Policy stage of the proxy pipeline: the caller's work type decides on the matched route, the
/// method and the canonical path. Only an allowing decision reaches the next stage.
/// </summary>
internal static partial class PolicyStage
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var action = context.GetAction();
        var route = context.GetReverseProxyFeature().Route.Config;
        action.RouteId = route.RouteId;

        var policy = context.RequestServices.GetRequiredService<PolicyStore>().Current;
        var decision = policy.Decide(action.WorkType!, route.RouteId, action.Method, action.Path);
        action.Decision = decision;

        if (!decision.Permits)
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden, decision).ConfigureAwait(false);
            return;
        }
        if (decision.Outcome == DecisionOutcome.WouldDeny)
        {
            Log.WouldDeny(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("AgentPerimeter.Gateway.Policy"),
                action.ActionId, action.WorkType!, action.Method, action.Path, route.RouteId, decision.RuleId!);
        }

        await next().ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 110, Level = LogLevel.Warning,
            Message = "Would deny {ActionId}: work type {WorkType} {Method} {Path} on route {Route} (allowed by report-only rule {Rule})")]
        public static partial void WouldDeny(ILogger logger, string actionId, string workType, string method, string path, string route, string rule);
    }
}
