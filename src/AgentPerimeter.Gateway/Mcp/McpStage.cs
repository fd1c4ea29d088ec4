using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Model;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// MCP stage of the proxy pipeline, for routes whose metadata says <c>"Perimeter.Mcp": "true"</c>.
/// It terminates the agent's Streamable HTTP traffic: reads the JSON-RPC message of each POST once,
/// turns it into the action (method, tool, arguments), decides it, answers refusals itself, checks
/// the <c>Mcp-Session-Id</c> belongs to the caller's session, and forwards the very bytes it checked.
/// </summary>
internal static class McpStage
{
    public const string MetadataKey = "Perimeter.Mcp";
    public const string SessionHeader = "Mcp-Session-Id";
    private const int MaxAuditArgumentChars = 2048;

    /// <summary><c>params._meta</c> keys: the MCP equivalents of the <c>Idempotency-Key</c> and <c>X-Perimeter-Approval</c> headers.</summary>
    public const string IdempotencyMetaKey = "io.agentperimeter/idempotency-key";
    public const string ApprovalMetaKey = "io.agentperimeter/approval-id";

    public static bool IsMcpRoute(RouteModel route) =>
        route.Config.Metadata is { } m && m.TryGetValue(MetadataKey, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var route = context.GetReverseProxyFeature().Route;
        if (!IsMcpRoute(route))
        {
            await next().ConfigureAwait(false);
            return;
        }

        var action = context.GetAction();
        var mcp = new McpActionInfo();
        action.Kind = ActionKind.Mcp;
        action.Mcp = mcp;
        var services = context.RequestServices;
        var sessions = services.GetRequiredService<McpSessions>();
        var sessionId = context.Request.Headers[SessionHeader].ToString();
        mcp.SessionId = sessionId.Length > 0 ? sessionId : null;

        if (HttpMethods.IsPost(context.Request.Method))
        {
            if (!await InspectPostAsync(context, action, mcp, sessions).ConfigureAwait(false))
                return;
        }
        else if (mcp.SessionId is { } sid && await sessions.CheckAsync(sid, action.SessionId!).ConfigureAwait(false) is { } problem)
        {
            await RefuseSessionAsync(context, problem, null).ConfigureAwait(false);
            return;
        }

        if (mcp.Method == "initialize")
        {
            // Bind the session the server created to the agent session that initialized it before the
            // agent can see its id: a client's next request may arrive before this stage resumes.
            context.Response.OnStarting(static async state =>
            {
                var (ctx, sessions, mcp, agentSession) = ((HttpContext, McpSessions, McpActionInfo, string))state;
                if (ctx.Response.StatusCode is >= 200 and < 300 && ctx.Response.Headers[SessionHeader].ToString() is { Length: > 0 } created)
                {
                    try
                    {
                        if (await sessions.TryBindAsync(created, agentSession).ConfigureAwait(false))
                            mcp.SessionId = created;
                    }
                    catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
                    {
                        // Unbound, the session's next request gets 404 and the client re-initializes.
                    }
                }
            }, (context, sessions, mcp, action.SessionId!));
        }
        await next().ConfigureAwait(false);

        if (HttpMethods.IsDelete(context.Request.Method) && mcp.SessionId is { } ended && context.Response.StatusCode is >= 200 and < 300)
        {
            sessions.Unbind(ended);
        }
    }

    private static async Task<bool> InspectPostAsync(HttpContext context, ActionContext action, McpActionInfo mcp, McpSessions sessions)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await McpResponses.RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType, -32600,
                new PolicyDecision(DecisionOutcome.BadRequest, "unsupported_media_type", null, null), null,
                "MCP messages must be sent as 'Content-Type: application/json'.").ConfigureAwait(false);
            return false;
        }

        // Buffer the body (Kestrel already caps its size) so the checked bytes are the forwarded bytes.
        // Grow as bytes arrive: a claimed Content-Length alone reserves no memory.
        var body = new MemoryStream(request.ContentLength is > 0 and < 64 * 1024 ? (int)request.ContentLength.Value : 4096);
        await request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var bytes = body.GetBuffer().AsMemory(0, (int)body.Length);

        var (message, errorCode, error) = McpMessage.Parse(bytes);
        if (message is null)
        {
            var code = errorCode == -32700 ? "invalid_json" : error!.Contains("batch", StringComparison.Ordinal) ? "batch_not_supported" : "invalid_jsonrpc";
            await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, errorCode,
                new PolicyDecision(DecisionOutcome.BadRequest, code, null, error), null, error!).ConfigureAwait(false);
            return false;
        }

        mcp.Method = message.Method;
        mcp.RawId = message.RawId;
        mcp.MessageKind = message.Kind;

        // Every message that names a session must be its owner's, initialize included (a server may run
        // an initialize inside an existing session and hand its id back).
        if (mcp.SessionId is { } sid && await sessions.CheckAsync(sid, action.SessionId!).ConfigureAwait(false) is { } problem)
        {
            await RefuseSessionAsync(context, problem, message.RawId).ConfigureAwait(false);
            return false;
        }

        JsonElement? arguments = null;
        JsonDocument? paramsDoc = null;
        try
        {
            if (!message.Params.IsEmpty && message.Method is "tools/call" or "resources/read" or "resources/subscribe" or "resources/unsubscribe" or "prompts/get")
            {
                paramsDoc = JsonDocument.Parse(message.Params);
                var p = paramsDoc.RootElement;
                if (p.ValueKind != JsonValueKind.Object)
                {
                    await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, -32602,
                        new PolicyDecision(DecisionOutcome.BadRequest, "invalid_params", null, null), message.RawId,
                        "Invalid params: 'params' must be an object.").ConfigureAwait(false);
                    return false;
                }
                // A key that repeats (in any letter case) could be read one way here and another way
                // by the server's deserializer: refuse rather than guess which one it will use.
                var dup = McpMessage.DuplicateKey(p) ?? (p.TryGetProperty("arguments", out var argsForDup) ? McpMessage.DuplicateKey(argsForDup) : null);
                if (dup is not null)
                {
                    await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, -32602,
                        new PolicyDecision(DecisionOutcome.BadRequest, "duplicate_key", null, null), message.RawId,
                        $"Invalid params: the key '{dup}' appears more than once.").ConfigureAwait(false);
                    return false;
                }
                var targetKey = message.Method == "tools/call" || message.Method == "prompts/get" ? "name" : "uri";
                mcp.Target = p.TryGetProperty(targetKey, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (p.TryGetProperty("_meta", out var meta) && meta.ValueKind == JsonValueKind.Object)
                {
                    if (meta.TryGetProperty(IdempotencyMetaKey, out var idem) && idem.ValueKind == JsonValueKind.String)
                        action.IdempotencyKey = idem.GetString();
                    if (meta.TryGetProperty(ApprovalMetaKey, out var approval) && approval.ValueKind == JsonValueKind.String)
                        action.ApprovalId = approval.GetString();
                }
                mcp.ArgumentsHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                    p.TryGetProperty("arguments", out var hashed) ? Encoding.UTF8.GetBytes(hashed.GetRawText()) : []));
                if (p.TryGetProperty("arguments", out var a))
                {
                    arguments = a;
                    var raw = a.GetRawText();
                    mcp.FullArguments = raw;
                    mcp.Arguments = raw.Length <= MaxAuditArgumentChars ? raw : string.Concat(raw.AsSpan(0, MaxAuditArgumentChars), "…[truncated]");
                }
            }

            if (message.Kind == McpMessageKind.Request && message.Method is "tools/call" or "resources/read" or "prompts/get" && mcp.Target is null)
            {
                await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, -32602,
                    new PolicyDecision(DecisionOutcome.BadRequest, "invalid_params", null, null), message.RawId,
                    $"Invalid params: '{message.Method}' needs a '{(message.Method == "resources/read" ? "uri" : "name")}' string.").ConfigureAwait(false);
                return false;
            }

            var policy = context.RequestServices.GetRequiredService<PolicyStore>().Current;
            var decision = policy.Decide(action.WorkType!, action.RouteId!, message.Kind == McpMessageKind.Response ? null : message.Method, mcp.Target, arguments);
            if (decision.Permits && message.Method == "tools/call"
                && context.RequestServices.GetRequiredService<ToolPins>().IsWithheld(action.RouteId!, mcp.Target!))
            {
                decision = new PolicyDecision(DecisionOutcome.Deny, "tool_definition_changed", decision.RuleId,
                    $"The definition of tool '{mcp.Target}' changed since it was approved; it is withheld until an operator re-approves it.");
            }
            action.Decision = decision;
            if (!decision.Permits)
            {
                await McpResponses.RefuseAsync(context, StatusCodes.Status200OK, McpResponses.PerimeterRefusal, decision, message.RawId, decision.Reason!).ConfigureAwait(false);
                return false;
            }
        }
        catch (InvalidOperationException)
        {
            // A string in params that is not valid text (e.g. a lone surrogate).
            await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, -32602,
                new PolicyDecision(DecisionOutcome.BadRequest, "invalid_params", null, null), message.RawId,
                "Invalid params: a string is not valid text.").ConfigureAwait(false);
            return false;
        }
        finally
        {
            paramsDoc?.Dispose();
        }

        mcp.ListKind = message.Method switch
        {
            "tools/list" => "tools",
            "resources/list" => "resources",
            "resources/templates/list" => "resourceTemplates",
            "prompts/list" => "prompts",
            _ => null,
        };

        body.Position = 0;
        request.Body = body;
        request.ContentLength = body.Length;
        return true;
    }

    private static Task RefuseSessionAsync(HttpContext context, (int Status, string Code, string Message) problem, string? rawId) =>
        McpResponses.RefuseAsync(context, problem.Status, McpResponses.PerimeterRefusal,
            new PolicyDecision(DecisionOutcome.Deny, problem.Code, null, problem.Message), rawId, problem.Message);
}
