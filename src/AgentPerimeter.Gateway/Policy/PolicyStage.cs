using AgentPerimeter.Gateway.Actions;
using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Policy stage of the proxy pipeline: the caller's work type decides on the matched route, the
/// method and the canonical path. A refusal decides the action here; an allowance is proposed, and
/// fixed by <see cref="DecisionSealStage"/> once the later deciding stages (MCP message, approval) agree.
/// </summary>
internal sealed partial class PolicyStage(RequestDelegate next, ILogger<PolicyStage> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        var route = context.GetReverseProxyFeature().Route.Config;
        action.RouteId = route.RouteId;

        var decision = context.GetPolicy().Decide(action.WorkType!, route.RouteId, action.Method, action.Path);
        if (!decision.Permits && Mcp.McpRoutes.IsMcpRoute(context.GetReverseProxyFeature().Route) && HttpMethods.IsPost(context.Request.Method))
        {
            // The MCP stage answers it once it has read the JSON-RPC id: a JSON-RPC error, not an HTTP 403
            // an SDK can only report as a transport failure.
            action.DeferredRefusal = decision;
            await next(context).ConfigureAwait(false);
            return;
        }
        if (!decision.Permits)
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden, decision).ConfigureAwait(false);
            return;
        }
        if (decision.Outcome == DecisionOutcome.WouldDeny)
            Log.WouldDeny(logger, action.ActionId, action.WorkType!, action.Method, action.Path, route.RouteId, decision.RuleId!);

        action.Proposal = decision;
        await next(context).ConfigureAwait(false);
    }

    private static partial class Log
    {
        // A report-only hit is the rule working as configured: Information, not a Warning.
        [LoggerMessage(EventId = 110, Level = LogLevel.Information,
            Message = "Would deny {ActionId}: work type {WorkType} {Method} {Path} on route {Route} (allowed by report-only rule {Rule})")]
        public static partial void WouldDeny(ILogger logger, string actionId, string workType, string method, string path, string route, string rule);
    }
}
