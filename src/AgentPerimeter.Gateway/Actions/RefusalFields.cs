using System.Text.Json;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>The machine-readable reason fields every refusal carries, HTTP body or JSON-RPC <c>data</c>.</summary>
public static class RefusalFields
{
    public static void Write(Utf8JsonWriter w, ActionContext action)
    {
        w.WriteString("decision", action.DecisionLabel);
        w.WriteString("rule", action.RuleId);
        w.WriteString("work_type", action.WorkType);
        w.WriteString("route", action.RouteId);
        w.WriteString("action_id", action.ActionId);
        if (action.Outcome?.RetryAfter is { } retry)
            w.WriteNumber("retry_after_ms", (long)Math.Ceiling(retry.TotalMilliseconds));
        if (action.ApprovalId is { } approval)
            w.WriteString("approval_id", approval);
    }

    /// <summary>Writer options of every refusal: readable text, no HTML escaping of quotes in messages.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
