using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Refusals;
using ModelContextProtocol;

namespace AgentPerimeter.Harness;

/// <summary>
/// The perimeter's refusal carried by a JSON-RPC error: the machine-readable <c>data</c> (code, retry
/// delay, approval id), never parsed out of the sentence meant for the model.
/// </summary>
internal static class McpRefusal
{
    public static bool IsPerimeterRefusal(McpProtocolException ex) => (int)ex.ErrorCode == PerimeterRefusal.JsonRpcErrorCode;

    /// <summary>
    /// The refusal in the error's <c>data</c>; null when there is none. The MCP client SDK hands the
    /// <c>data</c> object over as <see cref="Exception.Data"/>, one entry per property (strings,
    /// numbers as doubles, booleans, nulls; objects and arrays as <see cref="JsonElement"/>).
    /// </summary>
    public static PerimeterRefusal? Read(McpProtocolException ex)
    {
        if (!IsPerimeterRefusal(ex) || ex.Data.Count == 0)
            return null;
        var data = new JsonObject();
        foreach (DictionaryEntry entry in ex.Data)
        {
            if (entry.Key is string key)
                data[key] = entry.Value switch
                {
                    string s => JsonValue.Create(s),
                    double d => JsonValue.Create(d),
                    long l => JsonValue.Create(l),
                    int i => JsonValue.Create(i),
                    bool b => JsonValue.Create(b),
                    JsonElement e => JsonNode.Parse(e.GetRawText()),
                    _ => null,
                };
        }
        try
        {
            return data.Deserialize(ProtocolJsonContext.Default.PerimeterRefusal);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
