using System.Text.Json;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The gateway's own answers to agents. One shape for every refusal, so a harness can act on
/// <c>error</c> / <c>decision</c> and show <c>message</c> to the model. Never a stack trace, a secret
/// or an internal address.
/// </summary>
public static class ActionResponses
{
    public const string ActionIdHeader = "X-Perimeter-Action-Id";

    /// <summary>Caller-chosen text made safe to echo in a message or a record: no control characters, capped.</summary>
    internal static string Printable(string value, int max) => new(value.Where(c => !char.IsControl(c)).Take(max).ToArray());

    /// <summary>The machine-readable reason fields every refusal carries, HTTP or JSON-RPC.</summary>
    internal static void WriteReason(Utf8JsonWriter w, ActionContext action, PolicyDecision decision)
    {
        w.WriteString("decision", decision.Label);
        w.WriteString("rule", decision.RuleId);
        w.WriteString("work_type", action.WorkType);
        w.WriteString("route", action.RouteId);
        w.WriteString("action_id", action.ActionId);
        if (action.RetryAfter is { } retry)
            w.WriteNumber("retry_after_ms", (long)Math.Ceiling(retry.TotalMilliseconds));
        if (action.ApprovalId is { } approval)
            w.WriteString("approval_id", approval);
    }

    public static async Task RefuseAsync(HttpContext context, int status, PolicyDecision decision, string? message = null)
    {
        var action = context.GetAction();
        // On an MCP route a JSON-RPC request is answered in JSON-RPC, so MCP clients read the reason.
        if (action.Mcp is { MessageKind: Mcp.McpMessageKind.Request } mcp && HttpMethods.IsPost(context.Request.Method) && !context.Response.HasStarted)
        {
            await Mcp.McpResponses.RefuseAsync(context, StatusCodes.Status200OK, Mcp.McpResponses.PerimeterRefusal, decision, mcp.RawId,
                message ?? decision.Reason ?? decision.Code).ConfigureAwait(false);
            return;
        }
        action.Decision = decision;
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.Headers[ActionIdHeader] = action.ActionId;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        if (status == StatusCodes.Status401Unauthorized)
            context.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{decision.Code}\"";

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("error", decision.Code);
            w.WriteString("message", message ?? decision.Reason);
            WriteReason(w, action, decision);
            w.WriteEndObject();
        }
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
