namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// A decision with the rule that made it and the reason the agent reads. An action is decided once
/// (<see cref="ActionContext.Decide"/>); what happened after the decision is its <see cref="ActionOutcome"/>.
/// </summary>
public sealed record PolicyDecision(DecisionOutcome Outcome, string Code, string? RuleId, string? Reason)
{
    public static readonly PolicyDecision Pending = new(DecisionOutcome.Pending, "pending", null, null);

    /// <summary>The metrics / audit label of the decision.</summary>
    public string Label => Outcome switch
    {
        DecisionOutcome.Allow => "allow",
        DecisionOutcome.WouldDeny => "would_deny",
        DecisionOutcome.Deny => "deny",
        DecisionOutcome.Unauthenticated => "unauthenticated",
        DecisionOutcome.NotFound => "not_found",
        DecisionOutcome.BadRequest => "bad_request",
        DecisionOutcome.Unavailable => "unavailable",
        DecisionOutcome.ApprovalRequired => "approval_required",
        DecisionOutcome.External => "external",
        _ => "pending",
    };

    /// <summary>
    /// The policy axis of "governed": the decision was made in enforcing mode. A refusal by the
    /// perimeter is governance; an allowance by a report-only rule, or an undecided action, is not.
    /// </summary>
    public bool IsEnforced => Outcome is DecisionOutcome.Allow or DecisionOutcome.Deny
        or DecisionOutcome.Unauthenticated or DecisionOutcome.NotFound or DecisionOutcome.BadRequest
        or DecisionOutcome.ApprovalRequired;

    public bool Permits => Outcome is DecisionOutcome.Allow or DecisionOutcome.WouldDeny or DecisionOutcome.External;
}
