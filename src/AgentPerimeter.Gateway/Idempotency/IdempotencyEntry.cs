using System.Text.Json.Serialization;

namespace AgentPerimeter.Gateway.Idempotency;

internal sealed record IdempotencyEntry(
    [property: JsonPropertyName("fp")] string Fingerprint,
    [property: JsonPropertyName("outcome")] StoredOutcome? Outcome,
    [property: JsonPropertyName("claim")] string? Claim = null,
    [property: JsonPropertyName("since")] DateTimeOffset Since = default);
