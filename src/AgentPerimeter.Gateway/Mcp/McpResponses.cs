using System.Buffers;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// The gateway's own JSON-RPC answers on MCP routes. A refusal is a JSON-RPC error whose
/// <c>message</c> is a sentence for the model and whose <c>data</c> carries the machine-readable
/// reason (same fields as the HTTP refusal body), so a harness can act on it.
/// </summary>
public static class McpResponses
{
    /// <summary>JSON-RPC error code of every refusal by the perimeter (implementation-defined range).</summary>
    public const int PerimeterRefusal = AgentPerimeter.Protocol.Refusals.PerimeterRefusal.JsonRpcErrorCode;

    /// <summary>Decides the action as <paramref name="decision"/> and answers with a JSON-RPC error of <paramref name="code"/>.</summary>
    public static Task RefuseAsync(HttpContext context, int httpStatus, int code, PolicyDecision decision, string? rawId, string message)
    {
        var action = context.GetAction();
        action.Decide(decision);
        return WriteErrorAsync(context, action, httpStatus, code, decision.Code, rawId, message);
    }

    internal static Task WriteErrorAsync(HttpContext context, ActionContext action, int httpStatus, int code, string errorCode, string? rawId, string message) =>
        WriteMessageAsync(context, httpStatus, rawId, w =>
        {
            w.WritePropertyName("error");
            w.WriteStartObject();
            w.WriteNumber("code", code);
            // The SDKs surface only the message to a client: the retry delay travels in it too.
            w.WriteString("message", action.Outcome?.RetryAfter is { } retry
                ? $"[{errorCode}] {message} Retry after {(long)Math.Ceiling(retry.TotalMilliseconds)} ms."
                : $"[{errorCode}] {message}");
            w.WritePropertyName("data");
            w.WriteStartObject();
            w.WriteString("error", errorCode);
            RefusalFields.Write(w, action);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary>The perimeter's own JSON-RPC answer to a request: <c>{"jsonrpc":"2.0","id":…,</c> what <paramref name="body"/> writes <c>}</c>.</summary>
    internal static async Task WriteMessageAsync(HttpContext context, int httpStatus, string? rawId, Action<Utf8JsonWriter> body)
    {
        context.Response.StatusCode = httpStatus;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var buffer = new ArrayBufferWriter<byte>(384);
        using (var w = new Utf8JsonWriter(buffer, RefusalFields.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            w.WritePropertyName("id");
            if (rawId is null)
                w.WriteNullValue();
            else
                w.WriteRawValue(rawId, skipInputValidation: true);
            body(w);
            w.WriteEndObject();
        }
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
