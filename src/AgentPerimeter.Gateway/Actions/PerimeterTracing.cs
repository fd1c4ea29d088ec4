using System.Diagnostics;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The gateway's OpenTelemetry spans (<see cref="SourceName"/>): one per MCP message, named as the MCP
/// semantic conventions name it (<c>tools/call deploy</c>), whose parent is the caller's trace context —
/// the <c>traceparent</c> header, or <c>params._meta.traceparent</c> as MCP 2026-07-28 carries it — so the
/// perimeter's decision shows inside the agent's own trace. Nothing is created unless something listens
/// (an OpenTelemetry SDK: the gateway exports over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
/// </summary>
public static class PerimeterTracing
{
    public const string SourceName = "AgentPerimeter.Gateway";
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts the span of an MCP action at the action's start; ended when the response is done. Null when nobody listens.</summary>
    public static Activity? StartMcpSpan(HttpContext context, ActionContext action, McpActionInfo mcp)
    {
        if (!Source.HasListeners())
            return null;
        ActivityContext parent = default;
        if (action.TraceParent is not { } traceParent || !ActivityContext.TryParse(traceParent, null, out parent))
            parent = Activity.Current?.Context ?? default;
        var name = mcp.Method is null ? $"mcp {context.Request.Method}" : mcp.Target is null ? mcp.Method : $"{mcp.Method} {mcp.Target}";
        var activity = Source.StartActivity(ActivityKind.Server, parent, startTime: action.StartedAt, name: name.Length <= 128 ? name : name[..128]);
        if (activity is null)
            return null;
        activity.SetTag("mcp.method.name", mcp.Method);
        if (mcp.Method == "tools/call")
            activity.SetTag("gen_ai.tool.name", mcp.Target);
        activity.SetTag("mcp.protocol.version", mcp.ProtocolVersion);
        activity.SetTag("mcp.session.id", mcp.SessionId);
        activity.SetTag("agentperimeter.action_id", action.ActionId);
        activity.SetTag("agentperimeter.agent", action.AgentId);
        activity.SetTag("agentperimeter.work_type", action.WorkType);
        activity.SetTag("agentperimeter.route", action.RouteId);
        context.Response.OnCompleted(static state =>
        {
            var (activity, action) = ((Activity, ActionContext))state;
            activity.SetTag("agentperimeter.decision", action.Decision.Label);
            activity.SetTag("agentperimeter.code", action.Decision.Code);
            if (action.Decision.Outcome is not (DecisionOutcome.Allow or DecisionOutcome.WouldDeny))
                activity.SetStatus(ActivityStatusCode.Error, action.Decision.Code);
            activity.Dispose();
            return Task.CompletedTask;
        }, (activity, action));
        return activity;
    }
}
