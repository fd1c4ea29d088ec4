using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// MCP stage of the proxy pipeline, for routes whose metadata says <c>"Perimeter.Mcp": "true"</c>.
/// It terminates the agent's Streamable HTTP traffic: reads the JSON-RPC message of each POST once
/// (<see cref="McpRequestInspector"/>), decides it, answers refusals itself, checks the
/// <c>Mcp-Session-Id</c> belongs to the caller's session, and forwards the very bytes it checked.
/// </summary>
internal sealed class McpStage(RequestDelegate next, McpSessions sessions, McpRequestInspector inspector)
{
    public const string SessionHeader = AgentPerimeter.Protocol.PerimeterHeaders.McpSessionId;

    /// <summary><c>params._meta</c> keys: the MCP equivalents of the <c>Idempotency-Key</c> and <c>X-Perimeter-Approval</c> headers.</summary>
    public const string IdempotencyMetaKey = AgentPerimeter.Protocol.PerimeterMeta.IdempotencyKey;
    public const string ApprovalMetaKey = AgentPerimeter.Protocol.PerimeterMeta.ApprovalId;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!McpRoutes.IsMcpRoute(context.GetReverseProxyFeature().Route))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var action = context.GetAction();
        var mcp = new McpActionInfo();
        action.Kind = ActionKind.Mcp;
        action.Mcp = mcp;
        var sessionId = context.Request.Headers[SessionHeader].ToString();
        mcp.SessionId = sessionId.Length > 0 ? sessionId : null;

        if (HttpMethods.IsPost(context.Request.Method))
        {
            bool forward = await inspector.InspectAsync(context, action, mcp).ConfigureAwait(false);
            // The span starts at the action's start, parented by the caller's trace (header or _meta), ends with the response.
            PerimeterTracing.StartMcpSpan(context, action, mcp);
            if (!forward)
                return;
        }
        else if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            // A GET or DELETE carries no JSON-RPC message: a body here would reach the server uninspected.
            await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, -32600,
                new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.InvalidJsonRpc, null, null), null,
                $"An MCP {context.Request.Method} carries no body; send JSON-RPC messages with POST.").ConfigureAwait(false);
            return;
        }
        else if (mcp.SessionId is { } sid && await sessions.CheckAsync(sid, action.SessionId!).ConfigureAwait(false) is { } problem)
        {
            await RefuseSessionAsync(context, problem, null).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
            McpRequestInspector.StripUncheckedMirrors(context.Request, null, mcp); // a GET or DELETE carries no message to check them against
        if (mcp.Method == "initialize")
            BindOnStart(context, mcp, action.SessionId!);
        await next(context).ConfigureAwait(false);

        if (HttpMethods.IsDelete(context.Request.Method) && mcp.SessionId is { } ended && context.Response.StatusCode is >= 200 and < 300)
            sessions.Unbind(ended);
    }

    /// <summary>
    /// Binds the session the server created to the agent session that initialized it before the agent
    /// can see its id: a client's next request may arrive before this stage resumes.
    /// </summary>
    private void BindOnStart(HttpContext context, McpActionInfo mcp, string agentSession) =>
        context.Response.OnStarting(static async state =>
        {
            var (ctx, sessions, mcp, agentSession) = ((HttpContext, McpSessions, McpActionInfo, string))state;
            if (ctx.Response.StatusCode is >= 200 and < 300 && ctx.Response.Headers[SessionHeader].ToString() is { Length: > 0 } created)
            {
                try
                {
                    if (await sessions.TryBindAsync(created, agentSession).ConfigureAwait(false))
                    {
                        mcp.SessionId = created;
                        if (mcp.ClientElicitsUrl)
                            sessions.RememberUrlElicitation(created);
                    }
                }
                catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
                {
                    // Unbound, the session's next request gets 404 and the client re-initializes.
                }
            }
        }, (context, sessions, mcp, agentSession));

    internal static Task RefuseSessionAsync(HttpContext context, (int Status, string Code, string Message) problem, string? rawId) =>
        McpResponses.RefuseAsync(context, problem.Status, McpResponses.PerimeterRefusal,
            new PolicyDecision(DecisionOutcome.Deny, problem.Code, null, problem.Message), rawId, problem.Message);
}
