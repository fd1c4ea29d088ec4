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
    public static byte[] SerializeFields(ActionContext action, Secrets.SecretScrubber? scrubber = null) =>
        Serialize(action, scrubber, action.IntentRecorded ? AuditPhases.Outcome : AuditPhases.Single);

    /// <summary>The intent record: everything known before the first byte goes upstream.</summary>
    public static byte[] SerializeIntent(ActionContext action, Secrets.SecretScrubber? scrubber = null) =>
        Serialize(action, scrubber, AuditPhases.Intent);

    private static byte[] Serialize(ActionContext action, Secrets.SecretScrubber? scrubber, string phase)
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
            w.WriteString("phase", phase);
            w.WriteString("kind", action.KindLabel);
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
                if (mcp.ProtocolVersion is { } version)
                    w.WriteString("protocol_version", Cap(version, 32));
                if (mcp.ResultType is { } resultType)
                    w.WriteString("result_type", Cap(resultType, 256));
                w.WriteEndObject();
            }
            if (action.Egress is { } egress)
            {
                w.WritePropertyName("egress");
                w.WriteStartObject();
                w.WriteString("mode", egress.Mode);
                w.WriteString("host", Cap(egress.Host, 256));
                w.WriteNumber("port", egress.Port);
                w.WriteString("address", egress.Address);
                if (egress.Sni is { } sni)
                    w.WriteString("sni", Cap(sni, 256));
                if (phase != AuditPhases.Intent)
                {
                    w.WriteNumber("bytes_up", egress.BytesUp);
                    w.WriteNumber("bytes_down", egress.BytesDown);
                    w.WriteString("close_reason", egress.CloseReason);
                    if (egress.InspectedRequests + egress.RefusedRequests > 0)
                    {
                        w.WriteNumber("inspected_requests", egress.InspectedRequests);
                        w.WriteNumber("refused_requests", egress.RefusedRequests);
                    }
                }
                w.WriteEndObject();
            }
            if (action.IdempotencyKey is { } idem)
                w.WriteString("idempotency_key", Cap(idem, 128));
            if (action.IdempotencyScope is { } scope)
            {
                // What a restart needs to mark the key "outcome unknown" if this action never ends.
                w.WriteString("idempotency_scope", scope);
                w.WriteString("idempotency_fingerprint", action.IdempotencyFingerprint);
            }
            if (action.TraceParent is { } trace)
                w.WriteString("traceparent", trace);
            if (action.Replayed)
                w.WriteBoolean("replay", true);
            if (action.ApprovalId is { } approval)
                w.WriteString("approval_id", approval);
            w.WriteString("decision", action.DecisionLabel);
            w.WriteString("code", action.Code);
            w.WriteString("rule", action.RuleId);
            w.WriteString("reason", Cap(Clean(action.Reason), MaxTextChars));
            if (phase == AuditPhases.Intent)
            {
                w.WritePropertyName("secrets");
                w.WriteStartArray();
                foreach (var name in action.SecretsPlanned)
                    w.WriteStringValue(name);
                w.WriteEndArray();
                if (action.RequestBytes is { } requestBytes)
                    w.WriteNumber("request_bytes", requestBytes);
                w.WriteString("policy_version", action.PolicyVersion);
                w.WriteEndObject();
                goto done;
            }
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
            if (action.RequestBytes is { } bytesIn)
                w.WriteNumber("request_bytes", bytesIn);
            if (action.ResponseBytes is { } bytesOut)
                w.WriteNumber("response_bytes", bytesOut);
            w.WriteString("policy_version", action.PolicyVersion);
            w.WriteEndObject();
        done:;
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

    /// <summary>
    /// The outcome record a restart writes for an intent that has none: the action may or may not have
    /// taken effect upstream. It repeats who and what from the intent, and says when it was found.
    /// </summary>
    internal static byte[] SerializeUnknownOutcome(OpenIntent intent, DateTimeOffset foundAt)
    {
        var r = intent.Record;
        string? Text(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("time", Text("time"));
            w.WriteString("action_id", intent.ActionId);
            w.WriteString("phase", AuditPhases.Outcome);
            foreach (var name in (string[])["kind", "agent", "session", "work_type", "route", "method", "path", "tunnel", "idempotency_key", "decision", "rule", "policy_version"])
            {
                if (Text(name) is { } value)
                    w.WriteString(name, value);
            }
            w.WriteString("code", Protocol.Refusals.RefusalCodes.OutcomeUnknown);
            w.WriteString("reason", "The gateway stopped while this action was in flight; whether the upstream acted on it is unknown.");
            w.WriteString("outcome", "outcome_unknown");
            w.WriteNull("status");
            w.WriteNull("upstream_status");
            w.WriteString("found_at", foundAt.UtcDateTime.ToString("O"));
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
