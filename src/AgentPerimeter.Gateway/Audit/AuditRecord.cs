using System.Buffers;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// Serializes an action into the body of its audit line. The chain fields (<c>seq</c>, <c>prev</c>,
/// <c>hash</c>) are added by <see cref="AuditLog"/>, which alone knows the order of records.
/// Written with <see cref="Utf8JsonWriter"/> so the field order is fixed and no reflection runs per action.
/// </summary>
public static class AuditRecord
{
    public const int MaxPathChars = 2048;
    public const int MaxTextChars = 1024;

    /// <summary>Writes the record's fields (without braces) for the chain writer to wrap.</summary>
    public static byte[] SerializeFields(ActionContext action, Secrets.SecretScrubber? scrubber = null)
    {
        // Every free text that could carry a secret an upstream echoed goes through the scrubber.
        string? Clean(string? text) => scrubber is null ? text : scrubber.Scrub(text);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            // SkipValidation lets us write a property list with no enclosing object.
            w.WriteStartObject();
            w.WriteString("time", action.StartedAt.UtcDateTime.ToString("O"));
            w.WriteString("action_id", action.ActionId);
            w.WriteString("kind", action.Kind switch { ActionKind.Mcp => "mcp", ActionKind.External => "external", _ => "http" });
            w.WriteString("agent", action.AgentId);
            w.WriteString("session", action.SessionId);
            w.WriteString("work_type", action.WorkType);
            w.WriteString("route", action.RouteId);
            w.WriteString("method", action.Method);
            w.WriteString("path", Cap(Clean(action.Path), MaxPathChars));
            if (action.Tunnel is { } tunnel)
                w.WriteString("tunnel", tunnel);
            if (action.InboundClient is { } inbound)
                w.WriteString("inbound_client", Cap(inbound, 256));
            if (action.Mcp is { } mcp)
            {
                w.WritePropertyName("mcp");
                w.WriteStartObject();
                w.WriteString("direction", mcp.Direction);
                w.WriteString("method", Cap(mcp.Method, 128));
                w.WriteString("message", mcp.MessageKind switch
                {
                    McpMessageKind.Request => "request",
                    McpMessageKind.Notification => "notification",
                    McpMessageKind.Response => "response",
                    _ => null,
                });
                if (mcp.RawId is { } id)
                    w.WriteString("id", Cap(id, 128));
                w.WriteString("target", Cap(Clean(mcp.Target), 512));
                // The arguments are stored as text (already capped), never re-parsed into the record.
                w.WriteString("arguments", Clean(mcp.Arguments));
                w.WriteString("session", Cap(mcp.SessionId, 128));
                w.WriteEndObject();
            }
            if (action.IdempotencyKey is { } idem)
                w.WriteString("idempotency_key", Cap(idem, 128));
            if (action.Replayed)
                w.WriteBoolean("replay", true);
            if (action.ApprovalId is { } approval)
                w.WriteString("approval_id", approval);
            w.WriteString("decision", action.DecisionLabel);
            w.WriteString("code", action.Code);
            w.WriteString("rule", action.RuleId);
            w.WriteString("reason", Cap(Clean(action.Reason), MaxTextChars));
            w.WriteString("outcome", action.OutcomeLabel);
            w.WriteBoolean("reached_upstream", action.ReachedUpstream);
            w.WriteNumber("status", action.Status);
            if (action.UpstreamStatus is { } upstream)
                w.WriteNumber("upstream_status", upstream);
            else
                w.WriteNull("upstream_status");
            w.WriteNumber("duration_ms", Math.Round(action.Elapsed.TotalMilliseconds, 3));
            var governed = action.Governed(audited: true);
            w.WriteBoolean("governed", governed.All);
            w.WritePropertyName("governed_by");
            w.WriteStartObject();
            w.WriteBoolean("policy", governed.Policy);
            w.WriteBoolean("audit", governed.Audit);
            w.WriteBoolean("secrets", governed.Secrets);
            w.WriteEndObject();
            w.WritePropertyName("secrets");
            w.WriteStartArray();
            foreach (var name in action.SecretsInjected)
                w.WriteStringValue(name);
            w.WriteEndArray();
            w.WriteString("exception", Cap(Clean(action.Exception), MaxTextChars));
            w.WriteString("policy_version", action.PolicyVersion);
            w.WriteEndObject();
        }
        // Strip the enclosing braces: the chain writer puts seq/prev first and hash last.
        return buffer.WrittenSpan[1..^1].ToArray();
    }

    /// <summary>A record of another kind (<see cref="PerimeterEvent"/>): kind, event and its fields in order.</summary>
    public static byte[] SerializeEvent(PerimeterEvent record, DateTimeOffset time, Secrets.SecretScrubber? scrubber = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("time", time.UtcDateTime.ToString("O"));
            w.WriteString("kind", record.Kind);
            w.WriteString("event", record.Event);
            foreach (var (name, value) in record.Fields)
            {
                switch (value)
                {
                    case null:
                        w.WriteNull(name);
                        break;
                    case string text:
                        w.WriteString(name, Cap(scrubber is null ? text : scrubber.Scrub(text), MaxTextChars));
                        break;
                    case int i:
                        w.WriteNumber(name, i);
                        break;
                    case long l:
                        w.WriteNumber(name, l);
                        break;
                    case bool b:
                        w.WriteBoolean(name, b);
                        break;
                    default:
                        w.WriteString(name, Cap(scrubber is null ? value.ToString() : scrubber.Scrub(value.ToString()), MaxTextChars));
                        break;
                }
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan[1..^1].ToArray();
    }

    /// <summary>A record about the log itself (e.g. recovery after a write failure); it has no action.</summary>
    public static byte[] SerializeSystemEvent(string eventName, DateTimeOffset time)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            w.WriteStartObject();
            w.WriteString("time", time.UtcDateTime.ToString("O"));
            w.WriteString("kind", "system");
            w.WriteString("event", eventName);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan[1..^1].ToArray();
    }

    private static string? Cap(string? value, int max) =>
        value is null || value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "…[truncated]");
}
