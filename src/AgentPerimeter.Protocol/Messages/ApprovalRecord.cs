using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Messages;

/// <summary>One approval as the admin API lists and decides it (<see cref="PerimeterPaths.AdminApprovals"/>).</summary>
/// <param name="Id">The approval id (<c>apr_…</c>).</param>
/// <param name="Status">One of <see cref="ApprovalStates"/>.</param>
/// <param name="Agent">The agent whose call is held.</param>
/// <param name="Session">The agent session.</param>
/// <param name="WorkType">The session's work type.</param>
/// <param name="Route">The route of the held call.</param>
/// <param name="Rule">The rule that requires the approval.</param>
/// <param name="What">The held call (<c>tools/call deploy</c>, <c>POST /api/deployments</c>).</param>
/// <param name="Arguments">The call's arguments or body as sent, for the human deciding.</param>
/// <param name="CreatedAt">When the call was held.</param>
/// <param name="ExpiresAt">When the approval expires.</param>
/// <param name="DecidedAt">When an operator decided.</param>
/// <param name="DecidedBy">Who decided.</param>
/// <param name="UsedByAction">The action that spent the approval.</param>
public sealed record ApprovalRecord(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("agent")] string? Agent = null,
    [property: JsonPropertyName("session")] string? Session = null,
    [property: JsonPropertyName("work_type")] string? WorkType = null,
    [property: JsonPropertyName("route")] string? Route = null,
    [property: JsonPropertyName("rule")] string? Rule = null,
    [property: JsonPropertyName("what")] string? What = null,
    [property: JsonPropertyName("arguments")] string? Arguments = null,
    [property: JsonPropertyName("created_at")] DateTimeOffset? CreatedAt = null,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt = null,
    [property: JsonPropertyName("decided_at")] DateTimeOffset? DecidedAt = null,
    [property: JsonPropertyName("decided_by")] string? DecidedBy = null,
    [property: JsonPropertyName("used_by_action")] string? UsedByAction = null);
