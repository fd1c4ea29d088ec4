using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// The server-to-agent half of MCP inspection, for every message a server sends on any stream (POST
/// answers, the GET stream, replays after <c>Last-Event-ID</c>), one JSON-RPC message or an array of
/// them. A result is filtered by what it carries, not by the request it claims to answer: any
/// <c>tools</c>, <c>resources</c>, <c>resourceTemplates</c> or <c>prompts</c> list in any result is cut
/// to what the work type may use (matched in any letter case, as the C# SDK's case-insensitive reader
/// would), and every listed tool's whole definition is pinned. So a list cannot pass unfiltered by
/// arriving under another id, on another stream or replica, or after a reconnect. Tasks are not
/// offered: the <c>tasks</c> capability and the tools' <c>execution.taskSupport</c> are removed.
/// A message that cannot be read with certainty — not JSON, repeated keys, a method and a result at
/// once, a result that is not an object — is reported as not inspectable and never relayed.
/// </summary>
internal sealed class McpResponseFilter(ToolPins pins, IActionRecorder recorder)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    private static readonly (string Key, string PolicyKind, string NameKey)[] Lists =
    [
        ("tools", "tools", "name"),
        ("prompts", "prompts", "name"),
        ("resources", "resources", "uri"),
        ("resourceTemplates", "resources", "uriTemplate"),
    ];

    /// <summary>The outcome of inspecting one server message: relay it, relay a rewritten form, or withhold it.</summary>
    internal readonly record struct Inspection(string? Rewritten, string? Problem)
    {
        public static readonly Inspection Unchanged = new(null, null);
    }

    /// <summary>Inspects one SSE event's data or one JSON body.</summary>
    internal Inspection Inspect(HttpContext http, string data)
    {
        if (data.Length == 0)
            return Inspection.Unchanged; // an event without a message (a stream's priming event)
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(data, documentOptions: ParseOptions);
        }
        catch (JsonException)
        {
            return new(null, "the server sent a message that is not valid JSON (or repeats a key)");
        }
        try
        {
            bool changed = false;
            if (root is JsonArray batch)
            {
                foreach (var element in batch)
                    changed |= InspectMessage(http, element as JsonObject ?? throw new NotInspectableException("an array element is not a JSON-RPC message"));
            }
            else
            {
                changed = InspectMessage(http, root as JsonObject ?? throw new NotInspectableException("the server sent JSON that is not a JSON-RPC message"));
            }
            return changed ? new(root!.ToJsonString(), null) : Inspection.Unchanged;
        }
        catch (NotInspectableException ex)
        {
            return new(null, ex.Message);
        }
    }

    private bool InspectMessage(HttpContext http, JsonObject message)
    {
        var method = Property(message, "method");
        var result = Property(message, "result");
        var error = Property(message, "error");
        if (method is not null && (result is not null || error is not null))
            throw new NotInspectableException("a message carries a method and a result or error at once");
        if (method is not null)
        {
            if (method is not JsonValue m || !m.TryGetValue<string>(out var name))
                throw new NotInspectableException("a message's method is not a string");
            // A resource's updates reach only a work type that may read it (the listen or subscribe that asked
            // for them was decided so; a server that sends others anyway is not relayed).
            if (name == "notifications/resources/updated")
            {
                var uri = Property(message, "params") is JsonObject p && Property(p, "uri") is JsonValue u && u.TryGetValue<string>(out var value) ? value : null;
                var action = http.GetAction();
                if (uri is null || !http.GetPolicy().Decide(action.WorkType!, action.RouteId!, "resources/read", uri, null).Permits)
                    throw new NotInspectableException($"an update of resource '{ActionResponses.Printable(uri ?? "(none)", 120)}', which this work type may not read");
            }
            recorder.RecordServerMessage(http.GetAction(), name, Property(message, "id") is not null);
            return false;
        }
        if (result is not null)
        {
            if (error is not null)
                throw new NotInspectableException("a message carries a result and an error at once");
            return FilterResult(http, result as JsonObject ?? throw new NotInspectableException("a result is not an object"));
        }
        if (error is not null)
            return false;
        throw new NotInspectableException("a message is neither a request, a notification nor a response");
    }

    private bool FilterResult(HttpContext http, JsonObject result)
    {
        var action = http.GetAction();
        var policy = http.GetPolicy();
        bool changed = false;
        // MCP 2026-07-28 multi round-trip: the server asks the client for more before it acts. Relayed as is
        // (what it asks is the client's to show); recorded; the client's retry is a new action, decided again.
        if (Property(result, "resultType") is JsonValue kind && kind.TryGetValue<string>(out var resultType) && resultType == "input_required" && action.Mcp is { } mcp)
        {
            List<string> asks = Property(result, "inputRequests") is JsonObject requests
                ? [.. requests.Select(r => r.Value is JsonObject o && Property(o, "method") is JsonValue m && m.TryGetValue<string>(out var name) ? ActionResponses.Printable(name, 40) : "?").Distinct().Order(StringComparer.Ordinal)]
                : [];
            mcp.ResultType = asks.Count > 0 ? $"input_required: {string.Join(", ", asks)}" : "input_required";
        }
        foreach (var (key, policyKind, nameKey) in Lists)
        {
            if (Property(result, key) is not { } list)
                continue;
            if (list is not JsonArray items)
                throw new NotInspectableException($"a result's '{key}' is not a list");
            for (int i = items.Count - 1; i >= 0; i--)
            {
                var item = items[i] as JsonObject;
                var name = item is null ? null : Property(item, nameKey) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                bool keep = name is not null && policy.MayList(action.WorkType!, action.RouteId!, policyKind, name);
                if (keep && key == "tools")
                {
                    keep = pins.Observe(action.RouteId!, name!, item!);
                    if (keep)
                        changed |= StripTaskSupport(item!);
                }
                if (!keep)
                {
                    items.RemoveAt(i);
                    changed = true;
                }
            }
        }
        // MCP 2026-07-28 caching hints: a list cut to this work type must never be reused for another
        // caller, whatever the server declared (cacheScope "public", or a ttlMs without a scope).
        bool listed = Lists.Any(l => Property(result, l.Key) is not null);
        if (listed && (Property(result, "ttlMs") is not null || Property(result, "cacheScope") is not null)
            && !(Property(result, "cacheScope") is JsonValue scope && scope.TryGetValue<string>(out var value) && value == "private"))
        {
            RemoveAll(result, "cacheScope");
            result["cacheScope"] = "private";
            changed = true;
        }
                // An initialize result: tasks are not offered through the perimeter (their results could not be governed).
        // So is a server/discover result (MCP 2026-07-28), where tasks may also be offered as an extension.
        if ((Property(result, "protocolVersion") is not null || Property(result, "supportedVersions") is not null)
            && Property(result, "capabilities") is JsonObject capabilities)
        {
            changed |= RemoveAll(capabilities, "tasks");
            if (Property(capabilities, "extensions") is JsonObject extensions)
            {
                foreach (var key in extensions.Select(e => e.Key).Where(k => k.EndsWith("/tasks", StringComparison.OrdinalIgnoreCase)).ToList())
                {
                    extensions.Remove(key);
                    changed = true;
                }
            }
        }
        return changed;
    }

    private static bool StripTaskSupport(JsonObject tool)
    {
        if (Property(tool, "execution") is not JsonObject execution || !RemoveAll(execution, "taskSupport"))
            return false;
        if (execution.Count == 0)
            RemoveAll(tool, "execution");
        return true;
    }

    private static bool RemoveAll(JsonObject o, string key)
    {
        var keys = o.Select(p => p.Key).Where(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var k in keys)
            o.Remove(k);
        return keys.Count > 0;
    }

    /// <summary>
    /// A property read the way a lenient client would find it (any letter case); two spellings of one
    /// key would be read differently by different clients, so the message is not inspectable.
    /// </summary>
    private static JsonNode? Property(JsonObject o, string key)
    {
        // A JSON null reads as absent, as the SDKs read an optional field.
        JsonNode? found = null;
        bool seen = false;
        foreach (var (k, v) in o)
        {
            if (!k.Equals(key, StringComparison.OrdinalIgnoreCase))
                continue;
            if (seen)
                throw new NotInspectableException($"the key '{key}' appears in more than one spelling");
            seen = true;
            found = v;
        }
        return found;
    }

    private sealed class NotInspectableException(string message) : Exception(message);
}
