using System.Text.Json.Nodes;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// After the preflight the audit log holds one record per route (a request's record is durable before
/// its response): the inspected call must be an MCP action, tools/call of echo, allowed by its rule;
/// the uninspected one a plain HTTP action; the call through the tunnel the inspected kind, naming the tunnel.
/// </summary>
internal static class McpAuditCheck
{
    /// <summary>Throws if a record is missing or not as above; returns a summary of the three records for the report.</summary>
    public static string Verify(string auditLog)
    {
        var (inspected, raw, tunnel) = ReadPreflightRecords(auditLog);
        if (!IsAllowedToolCall(inspected, McpBench.InspectedRoute))
        {
            throw new InvalidOperationException($"the audit record of the inspected MCP call is not an allowed MCP tools/call of '{McpBench.Tool}' "
                + $"by rule {McpBench.InspectedRoute}: {inspected?.ToJsonString() ?? "(none)"}");
        }
        if (raw is null || Str(raw["kind"]) != "http" || Str(raw["decision"]) != "allow" || raw["mcp"] is not null)
            throw new InvalidOperationException($"the audit record of the uninspected MCP call is not an allowed plain HTTP action: {raw?.ToJsonString() ?? "(none)"}");
        if (!IsAllowedToolCall(tunnel, TunnelBench.McpRoute) || Str(tunnel["tunnel"]) != TunnelBench.Tunnel)
        {
            throw new InvalidOperationException($"the audit record of the MCP call through the tunnel is not an allowed MCP tools/call of '{McpBench.Tool}' "
                + $"by rule {TunnelBench.McpRoute} with \"tunnel\":\"{TunnelBench.Tunnel}\": {tunnel?.ToJsonString() ?? "(none)"}");
        }
        if (inspected["tunnel"] is not null || raw["tunnel"] is not null)
            throw new InvalidOperationException($"the audit records of the direct MCP calls name a tunnel: {inspected.ToJsonString()} {raw.ToJsonString()}");
        return $"{McpBench.InspectedRoute} → kind mcp, {Str(inspected["mcp"]?["method"])} {Str(inspected["mcp"]?["target"])}, "
            + $"arguments {Str(inspected["mcp"]?["arguments"])}, decision {Str(inspected["decision"])} (rule {Str(inspected["rule"])}); "
            + $"{McpBench.RawRoute} → kind http, decision {Str(raw["decision"])} (rule {Str(raw["rule"])}); "
            + $"{TunnelBench.McpRoute} → kind mcp, {Str(tunnel["mcp"]?["method"])} {Str(tunnel["mcp"]?["target"])}, decision {Str(tunnel["decision"])} "
            + $"(rule {Str(tunnel["rule"])}), tunnel {Str(tunnel["tunnel"])}";
    }

    /// <summary>The last record of each MCP route in the log.</summary>
    private static (JsonObject? Inspected, JsonObject? Raw, JsonObject? Tunnel) ReadPreflightRecords(string auditLog)
    {
        if (!File.Exists(auditLog))
            throw new InvalidOperationException($"the gateway wrote no audit log at {auditLog}");
        JsonObject? inspected = null, raw = null, tunnel = null;
        foreach (var line in File.ReadLines(auditLog))
        {
            if (JsonNode.Parse(line) is not JsonObject record)
                continue;
            var route = Str(record["route"]);
            if (route == McpBench.InspectedRoute)
                inspected = record;
            else if (route == McpBench.RawRoute)
                raw = record;
            else if (route == TunnelBench.McpRoute)
                tunnel = record;
        }
        return (inspected, raw, tunnel);
    }

    /// <summary>An MCP action, a <c>tools/call</c> of the benchmark's tool, allowed by the rule <paramref name="rule"/>.</summary>
    private static bool IsAllowedToolCall([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] JsonObject? record, string rule) =>
        record is not null && Str(record["kind"]) == "mcp" && Str(record["mcp"]?["method"]) == "tools/call"
            && Str(record["mcp"]?["target"]) == McpBench.Tool && Str(record["decision"]) == "allow" && Str(record["rule"]) == rule;

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
