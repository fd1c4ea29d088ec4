using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Refusals;

/// <summary>
/// Why the gateway refused an action, machine-readable. Over HTTP it is the whole response body; on an
/// MCP route it is the <c>data</c> of a JSON-RPC error whose code is <see cref="JsonRpcErrorCode"/> (there
/// <see cref="Message"/> is absent: the sentence is the error's own <c>message</c>). The admin API's
/// errors use the same shape with only <see cref="Error"/> and <see cref="Message"/>.
/// </summary>
/// <param name="Error">The refusal code (one of <see cref="RefusalCodes"/>).</param>
/// <param name="Message">What was refused and why, for a human or a model.</param>
/// <param name="Decision">The decision label (<c>deny</c>, <c>rate_limited</c>, <c>approval_required</c>, ...).</param>
/// <param name="Rule">The rule that decided, if one did.</param>
/// <param name="WorkType">The session's work type.</param>
/// <param name="Route">The route the request matched.</param>
/// <param name="ActionId">The action's id in the audit log.</param>
/// <param name="RetryAfterMs">When set, how long to wait before retrying.</param>
/// <param name="ApprovalId">When set, the approval the action waits for.</param>
public sealed record PerimeterRefusal(
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("message")] string? Message = null,
    [property: JsonPropertyName("decision")] string? Decision = null,
    [property: JsonPropertyName("rule")] string? Rule = null,
    [property: JsonPropertyName("work_type")] string? WorkType = null,
    [property: JsonPropertyName("route")] string? Route = null,
    [property: JsonPropertyName("action_id")] string? ActionId = null,
    [property: JsonPropertyName("retry_after_ms")] long? RetryAfterMs = null,
    [property: JsonPropertyName("approval_id")] string? ApprovalId = null)
{
    /// <summary>The JSON-RPC error code of every refusal by the perimeter (implementation-defined range).</summary>
    public const int JsonRpcErrorCode = -32001;

    /// <summary><see cref="RetryAfterMs"/> as a duration.</summary>
    [JsonIgnore]
    public TimeSpan? RetryAfter => RetryAfterMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null;
}
