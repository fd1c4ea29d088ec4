using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Secrets;
namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// The server-to-agent half of MCP inspection, called by the response transform: lists
/// (<c>tools/list</c>, <c>resources/list</c>, <c>prompts/list</c>) are filtered to what the work type may
/// use and tool definitions are pinned; the server's notifications and requests are audited as
/// server messages.
/// </summary>
internal static class McpResponseFilter
{
    /// <summary>Audits server messages; returns the rewritten data for a filtered list, else null.</summary>
    internal static string? InspectServerMessage(HttpContext http, McpActionInfo mcp, string data)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            return null; // Not JSON-RPC: relayed untouched.
        }
        if (node is not JsonObject message)
            return null;

        if (message["method"] is JsonValue m && m.TryGetValue<string>(out var method))
        {
            RecordServerMessage(http, method, message.ContainsKey("id"));
            return null;
        }
        // Any result on a list action is filtered, whatever its id looks like ("1.0" vs "1").
        if (mcp.ListKind is not null && message.ContainsKey("result"))
            return Encoding.UTF8.GetString(Filter(http, mcp, message));
        return null;
    }

    internal static byte[] Filter(HttpContext http, McpActionInfo mcp, byte[] body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return body;
        }
        return node is JsonObject message ? Filter(http, mcp, message) : body;
    }

    private static byte[] Filter(HttpContext http, McpActionInfo mcp, JsonObject message)
    {
        var action = http.GetAction();
        var services = http.RequestServices;
        var policy = services.GetRequiredService<PolicyStore>().Current;
        var pins = services.GetRequiredService<ToolPins>();
        var kind = mcp.ListKind!;
        if (message["result"] is JsonObject result && result[kind] is JsonArray items)
        {
            var policyKind = kind == "resourceTemplates" ? "resources" : kind;
            var nameKey = kind switch { "tools" or "prompts" => "name", "resources" => "uri", _ => "uriTemplate" };
            for (int i = items.Count - 1; i >= 0; i--)
            {
                var item = items[i] as JsonObject;
                var name = item?[nameKey]?.GetValue<string>();
                bool keep = name is not null && policy.MayList(action.WorkType!, action.RouteId!, policyKind, name);
                if (keep && kind == "tools")
                {
                    var description = item!["description"]?.GetValue<string>();
                    keep = pins.Observe(action.RouteId!, name!, ToolPins.Hash(name!, description, item["inputSchema"]), description);
                }
                if (!keep)
                    items.RemoveAt(i);
            }
        }
        return Encoding.UTF8.GetBytes(message.ToJsonString());
    }

    private static void RecordServerMessage(HttpContext http, string method, bool isRequest)
    {
        var parent = http.GetAction();
        var services = http.RequestServices;
        var record = new ActionContext("act_" + Guid.CreateVersion7().ToString("N"), services.GetRequiredService<TimeProvider>().GetUtcNow())
        {
            Kind = ActionKind.Mcp,
            AgentId = parent.AgentId,
            SessionId = parent.SessionId,
            WorkType = parent.WorkType,
            RouteId = parent.RouteId,
            Method = parent.Method,
            Path = parent.Path,
            Status = parent.Status,
            Decision = new PolicyDecision(DecisionOutcome.Allow, isRequest ? "server_request" : "server_notification", null, null),
            Mcp = new McpActionInfo { Method = method, Direction = "server", SessionId = parent.Mcp?.SessionId, MessageKind = isRequest ? McpMessageKind.Request : McpMessageKind.Notification },
        };
        var fields = AuditRecord.SerializeFields(record, services.GetRequiredService<PolicyStore>().Current.Version, services.GetRequiredService<Secrets.SecretScrubber>());
        // Observed, not decided: the stream is not held back for the record's fsync.
        _ = services.GetRequiredService<AuditLog>().AppendAsync(fields);
        services.GetRequiredService<PerimeterMetrics>().ServerMessage(parent.RouteId ?? "none", method);
    }
}
