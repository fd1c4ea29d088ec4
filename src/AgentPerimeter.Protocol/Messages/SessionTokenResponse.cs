using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Messages;

/// <summary>The answer to a <see cref="SessionTokenRequest"/> (HTTP 201); a refusal is a <see cref="Refusals.PerimeterRefusal"/>.</summary>
/// <param name="Token">The session token (a JWT) to send as <c>Authorization: Bearer</c>.</param>
/// <param name="SessionId">The session the token belongs to (the kill switch revokes it by this id).</param>
/// <param name="Agent">The agent's name.</param>
/// <param name="WorkType">The session's work type.</param>
/// <param name="ExpiresAt">When the token expires.</param>
public sealed record SessionTokenResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("agent")] string? Agent,
    [property: JsonPropertyName("work_type")] string? WorkType,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt);
