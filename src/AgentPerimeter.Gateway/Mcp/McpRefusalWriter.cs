using System.Text.Json;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// Refusals of a JSON-RPC request on an MCP route: a JSON-RPC error MCP clients read. A held call whose
/// client can open URLs (<see cref="ActionContext.ApprovalPrompt"/>) is shown the approval page instead, as
/// its protocol version expects: MCP 2026-07-28 an <c>InputRequiredResult</c> carrying a URL-mode
/// elicitation (the client's retry is a new action); 2025-11-25 and earlier the <c>-32042</c>
/// URL-elicitation-required error, which still names the perimeter's code in <c>data.error</c>.
/// </summary>
internal sealed class McpRefusalWriter(string? rawId) : IRefusalWriter
{
    public const int UrlElicitationRequired = -32042;
    private const string InputRequiredSince = "2026-07-28";

    public Task WriteAsync(HttpContext context, ActionContext action, Refusal refusal)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }
        if (action.ApprovalPrompt is { } prompt)
        {
            var version = action.Mcp?.ProtocolVersion;
            return version is { Length: 10 } && string.CompareOrdinal(version, InputRequiredSince) >= 0
                ? WriteInputRequiredAsync(context, action, prompt)
                : WriteUrlElicitationErrorAsync(context, action, refusal, prompt);
        }
        return McpResponses.WriteErrorAsync(context, action, StatusCodes.Status200OK, McpResponses.PerimeterRefusal, refusal.Code, rawId, refusal.Message);
    }

    private static void WriteElicitation(Utf8JsonWriter w, ApprovalPrompt prompt)
    {
        w.WriteString("mode", "url");
        w.WriteString("message", prompt.Message);
        w.WriteString("elicitationId", prompt.ApprovalId);
        w.WriteString("url", prompt.Url);
    }

    private Task WriteInputRequiredAsync(HttpContext context, ActionContext action, ApprovalPrompt prompt) =>
        WriteAsync(context, w =>
        {
            w.WritePropertyName("result");
            w.WriteStartObject();
            w.WriteString("resultType", "input_required");
            w.WritePropertyName("inputRequests");
            w.WriteStartObject();
            w.WritePropertyName(prompt.ApprovalId);
            w.WriteStartObject();
            w.WriteString("method", "elicitation/create");
            w.WritePropertyName("params");
            w.WriteStartObject();
            WriteElicitation(w, prompt);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WritePropertyName("_meta");
            w.WriteStartObject();
            w.WritePropertyName("io.agentperimeter/refusal");
            w.WriteStartObject();
            w.WriteString("error", action.Decision.Code);
            RefusalFields.Write(w, action);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });

    private Task WriteUrlElicitationErrorAsync(HttpContext context, ActionContext action, Refusal refusal, ApprovalPrompt prompt) =>
        WriteAsync(context, w =>
        {
            w.WritePropertyName("error");
            w.WriteStartObject();
            w.WriteNumber("code", UrlElicitationRequired);
            w.WriteString("message", $"[{refusal.Code}] {refusal.Message} Open {prompt.Url} to decide.");
            w.WritePropertyName("data");
            w.WriteStartObject();
            w.WritePropertyName("elicitations");
            w.WriteStartArray();
            w.WriteStartObject();
            WriteElicitation(w, prompt);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("error", refusal.Code);
            RefusalFields.Write(w, action);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    private Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> body) =>
        McpResponses.WriteMessageAsync(context, StatusCodes.Status200OK, rawId, body);
}
