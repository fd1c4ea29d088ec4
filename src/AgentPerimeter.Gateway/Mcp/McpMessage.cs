using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// One JSON-RPC message of an MCP POST, read once with <see cref="Utf8JsonReader"/> over the buffered
/// body. Only the top level is read eagerly; <c>params</c> is kept as a byte range and parsed only for
/// the methods whose parameters policy looks at.
/// </summary>
public sealed class McpMessage
{
    public McpMessageKind Kind { get; private init; }
    public string? Method { get; private init; }

    /// <summary>The id as raw JSON (a string with its quotes, or a number), to echo back unchanged.</summary>
    public string? RawId { get; private init; }

    public ReadOnlyMemory<byte> Params { get; private init; }

    /// <summary>Parses a body. Returns the message, or a JSON-RPC error code and text (as values).</summary>
    public static (McpMessage? Message, int ErrorCode, string? Error) Parse(ReadOnlyMemory<byte> body)
    {
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        try
        {
            if (!reader.Read())
                return (null, -32700, "Parse error: the body is empty.");
            if (reader.TokenType == JsonTokenType.StartArray)
                return (null, -32600, "JSON-RPC batches are not accepted: send one message per request (MCP 2025-06-18 removed batching).");
            if (reader.TokenType != JsonTokenType.StartObject)
                return (null, -32600, "Invalid Request: a JSON-RPC message must be a JSON object.");

            string? jsonrpc = null, method = null, rawId = null;
            bool hasId = false, hasResult = false, hasError = false;
            ReadOnlyMemory<byte> parameters = default;
            var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                if (!keys.Add(name!))
                    return (null, -32600, $"Invalid Request: the key '{name}' appears more than once.");
                reader.Read();
                switch (name)
                {
                    case "jsonrpc":
                        jsonrpc = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case "method":
                        if (reader.TokenType != JsonTokenType.String)
                            return (null, -32600, "Invalid Request: 'method' must be a string.");
                        method = reader.GetString();
                        break;
                    case "id":
                        hasId = true;
                        if (reader.TokenType == JsonTokenType.String)
                            rawId = JsonSerializer.Serialize(reader.GetString());
                        else if (reader.TokenType == JsonTokenType.Number)
                            rawId = Encoding.UTF8.GetString(reader.ValueSpan);
                        else
                            return (null, -32600, "Invalid Request: 'id' must be a string or a number.");
                        break;
                    case "params":
                        long start = reader.TokenStartIndex;
                        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                            return (null, -32602, "Invalid params: 'params' must be an object.");
                        reader.Skip();
                        parameters = body.Slice((int)start, (int)(reader.BytesConsumed - start));
                        break;
                    case "result":
                        hasResult = true;
                        reader.Skip();
                        break;
                    case "error":
                        hasError = true;
                        reader.Skip();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (reader.Read())
                return (null, -32700, "Parse error: unexpected data after the JSON-RPC message.");

            if (jsonrpc != "2.0")
                return (null, -32600, "Invalid Request: 'jsonrpc' must be \"2.0\".");
            McpMessageKind kind;
            if (method is not null)
                kind = hasId ? McpMessageKind.Request : McpMessageKind.Notification;
            else if (hasId && (hasResult ^ hasError))
                kind = McpMessageKind.Response;
            else
                return (null, -32600, "Invalid Request: a message needs a 'method' (request or notification), or an 'id' with 'result' or 'error' (response).");
            if (method is not null && method.Length == 0)
                return (null, -32600, "Invalid Request: 'method' is empty.");

            return (new McpMessage { Kind = kind, Method = method, RawId = rawId, Params = parameters }, 0, null);
        }
        catch (JsonException)
        {
            return (null, -32700, "Parse error: the body is not valid JSON.");
        }
        catch (InvalidOperationException)
        {
            // e.g. a lone surrogate in a string: valid JSON tokens, not a valid text.
            return (null, -32700, "Parse error: the body holds a string that is not valid text.");
        }
    }

    /// <summary>The first key of an object that repeats under a case-insensitive comparison, or null.</summary>
    public static string? DuplicateKey(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
            return null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in element.EnumerateObject())
        {
            if (!seen.Add(p.Name))
                return p.Name;
        }
        return null;
    }

    /// <summary>
    /// As <see cref="DuplicateKey"/>, at every depth (objects inside objects and arrays, up to the parser's
    /// depth limit): a nested argument a case-insensitive reader would take from another key than the
    /// gateway did (<c>{"loc":{"region":"us","Region":"admin"}}</c>) is refused too.
    /// </summary>
    public static string? DuplicateKeyDeep(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (DuplicateKey(element) is { } dup)
                    return dup;
                foreach (var p in element.EnumerateObject())
                {
                    if (DuplicateKeyDeep(p.Value) is { } inner)
                        return inner;
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (DuplicateKeyDeep(item) is { } inner)
                        return inner;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>Reads a string property of <c>params</c> (e.g. the tool name or resource URI).</summary>
    public string? ParamString(string property)
    {
        if (Params.IsEmpty)
            return null;
        using var doc = JsonDocument.Parse(Params);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;
    }
}
