using System.Text.Json.Serialization;

namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>The recorded outcome of an action executed under an idempotency key.</summary>
public sealed record StoredOutcome
{
    /// <summary>"http" (status, type, body), "mcp" (a JSON-RPC result or error) or "unknown" (no complete answer was seen).</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }
    [JsonPropertyName("status")] public int Status { get; init; }
    [JsonPropertyName("content_type")] public string? ContentType { get; init; }
    [JsonPropertyName("content_encoding")] public string? ContentEncoding { get; init; }
    [JsonPropertyName("body")] public byte[]? Body { get; init; }
    /// <summary>MCP: "result" or "error", and its raw JSON.</summary>
    [JsonPropertyName("member")] public string? Member { get; init; }
    [JsonPropertyName("payload")] public string? Payload { get; init; }
    [JsonPropertyName("action_id")] public string? ActionId { get; init; }
}
