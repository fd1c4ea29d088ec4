using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Messages;

/// <summary>
/// <c>GET .perimeter/approvals/{id}</c> on the agent listener, asked with the session's own token:
/// whether a held call has been decided. Another session's approval answers 404.
/// </summary>
/// <param name="Id">The approval id.</param>
/// <param name="Status">One of <see cref="ApprovalStates"/>.</param>
/// <param name="What">The held call (<c>tools/call deploy</c>, <c>POST /api/deployments</c>).</param>
/// <param name="ExpiresAt">When the approval expires.</param>
public sealed record ApprovalStatusResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("what")] string? What,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt);
