namespace AgentPerimeter.Gateway.Actions;

/// <summary>What the perimeter decided about an action, as a value (never an exception).</summary>
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
    /// <summary>Refused before any rule could decide: the gateway cannot act safely (audit sink down, a stage failed).</summary>
    Unavailable,
    /// <summary>Allowed by a rule that needs a human's approval, which has not been given (yet).</summary>
    ApprovalRequired,
    /// <summary>Ran outside the perimeter and reported afterwards: nobody here decided it.</summary>
    External,
}
