using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Messages;

/// <summary>
/// <c>POST admin/sessions</c> (<see cref="PerimeterPaths.AdminSessions"/>): a session token for an agent
/// and a work type; with <see cref="SessionId"/>, a new token for that existing session (a resumed harness).
/// </summary>
/// <param name="Agent">The agent's name.</param>
/// <param name="WorkType">The work type the session may do.</param>
/// <param name="TtlSeconds">The token's lifetime; the gateway's default when null.</param>
/// <param name="SessionId">An existing session to issue a new token for.</param>
public sealed record SessionTokenRequest(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("workType")] string WorkType,
    [property: JsonPropertyName("ttlSeconds")] int? TtlSeconds = null,
    [property: JsonPropertyName("sessionId")] string? SessionId = null);
