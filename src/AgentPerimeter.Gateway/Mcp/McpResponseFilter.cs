using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// The server-to-agent half of MCP inspection, called by the response transform: lists
/// (<c>tools/list</c>, <c>resources/list</c>, <c>prompts/list</c>) are filtered to what the work type may
/// use and tool definitions are pinned; the server's notifications and requests are audited as
/// server messages.
/// </summary>
internal sealed class McpResponseFilter(ToolPins pins, IActionRecorder recorder)
{
    /// <summary>Audits server messages; returns the rewritten data for a filtered list, else null.</summary>
    internal string? InspectServerMessage(HttpContext http, McpActionInfo mcp, string data)
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
            recorder.RecordServerMessage(http.GetAction(), method, message.ContainsKey("id"));
            return null;
        }
        // Any result on a list action is filtered, whatever its id looks like ("1.0" vs "1").
        if (mcp.ListKind is not null && message.ContainsKey("result"))
            return Encoding.UTF8.GetString(Filter(http, mcp, message));
        return null;
    }

    internal byte[] Filter(HttpContext http, McpActionInfo mcp, byte[] body)
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

    private byte[] Filter(HttpContext http, McpActionInfo mcp, JsonObject message)
    {
        var action = http.GetAction();
        var policy = http.GetPolicy();
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
}
