namespace AgentPerimeter.Gateway.Actions;

/// <summary>The outcome of an action's decision, as a value (never an exception).</summary>
public enum DecisionOutcome
{
    /// <summary>No stage has decided yet.</summary>
    Pending,
    /// <summary>An enforcing rule allowed it.</summary>
    Allow,
    /// <summary>Allowed by a report-only rule: forwarded, logged as "would deny", ungoverned.</summary>
    WouldDeny,
    /// <summary>Refused by the work type's policy (no enforcing rule allows it).</summary>
    Deny,
    /// <summary>No or invalid credentials.</summary>
    Unauthenticated,
    /// <summary>No route matches the request.</summary>
    NotFound,
    /// <summary>The request could not be checked (non-canonical path, malformed input).</summary>
    BadRequest,
    /// <summary>The gateway cannot act safely right now (audit sink down).</summary>
    Unavailable,
    /// <summary>Over a rate limit of the work type.</summary>
    RateLimited,
    /// <summary>Allowed without its rate limit checked (limit store unreachable, work type fails open).</summary>
    Degraded,
    /// <summary>Allowed by a rule that needs a human's approval, which has not been given (yet).</summary>
    ApprovalRequired,
    /// <summary>Ran outside the perimeter and reported afterwards: nobody here decided it.</summary>
    External,
}

/// <summary>A decision with the rule that made it and the reason the agent reads.</summary>
public sealed record PolicyDecision(DecisionOutcome Outcome, string Code, string? RuleId, string? Reason)
{
    public static readonly PolicyDecision Pending = new(DecisionOutcome.Pending, "pending", null, null);

    /// <summary>The metrics / audit label for the outcome.</summary>
    public string Label => Outcome switch
    {
        DecisionOutcome.Allow => "allow",
        DecisionOutcome.WouldDeny => "would_deny",
        DecisionOutcome.Deny => "deny",
        DecisionOutcome.Unauthenticated => "unauthenticated",
        DecisionOutcome.NotFound => "not_found",
        DecisionOutcome.BadRequest => "bad_request",
        DecisionOutcome.Unavailable => "unavailable",
        DecisionOutcome.RateLimited => "rate_limited",
        DecisionOutcome.Degraded => "degraded",
        DecisionOutcome.ApprovalRequired => "approval_required",
        DecisionOutcome.External => "external",
        _ => "pending",
    };

    /// <summary>
    /// The policy axis of "governed": the decision was made in enforcing mode. A refusal by the
    /// perimeter is governance; an allowance by a report-only rule, or an undecided action, is not.
    /// </summary>
    public bool IsEnforced => Outcome is DecisionOutcome.Allow or DecisionOutcome.Deny
        or DecisionOutcome.Unauthenticated or DecisionOutcome.NotFound or DecisionOutcome.BadRequest or DecisionOutcome.RateLimited
        or DecisionOutcome.ApprovalRequired;

    public bool Permits => Outcome is DecisionOutcome.Allow or DecisionOutcome.WouldDeny or DecisionOutcome.Degraded or DecisionOutcome.External;
}
