namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// What happened to an action after it was decided — rate-limited, upstream unavailable, replayed,
/// not inspectable — set by the stage that observed it (<see cref="ActionContext.SetOutcome"/>). The
/// decision stays what the policy said; the outcome says why the answer is not the upstream's.
/// </summary>
/// <param name="Class">Bounded kind, for metrics and the governed flags.</param>
/// <param name="Code">Machine-readable code the agent receives (<c>rate_limited</c>, <c>tunnel_unavailable</c>, ...).</param>
/// <param name="RuleId">The limit or rule the outcome names, when it has one (a rate limit's id).</param>
/// <param name="Reason">Sentence for the agent and the audit record.</param>
/// <param name="RetryAfter">When a retry may succeed.</param>
public sealed record ActionOutcome(OutcomeClass Class, string Code, string? RuleId = null, string? Reason = null, TimeSpan? RetryAfter = null)
{
    /// <summary>The forwarder failed before a byte left the gateway (no tunnel connector): the upstream cannot have acted.</summary>
    public bool NothingSent { get; init; }

    /// <summary>The answer is a refusal by the perimeter (counted as a denial), not an upstream's answer.</summary>
    public bool Refuses => Class is OutcomeClass.Limited or OutcomeClass.Unavailable or OutcomeClass.Violation or OutcomeClass.Revoked;

    /// <summary>Whether the policy axis of "governed" survives this outcome.</summary>
    public bool KeepsPolicyGoverned => Class is not (OutcomeClass.Degraded or OutcomeClass.Unavailable);

    /// <summary>
    /// The label the decision is reported under when this outcome applies. The limit stage's
    /// dispositions keep the names dashboards and alerts already use; other outcomes keep the decision's.
    /// </summary>
    public string? DecisionLabel => Class switch
    {
        OutcomeClass.Limited => "rate_limited",
        OutcomeClass.Degraded => "degraded",
        OutcomeClass.Unavailable => "unavailable",
        _ => null,
    };

    /// <summary>Bounded label of an outcome class.</summary>
    public static string ClassLabel(OutcomeClass c) => c switch
    {
        OutcomeClass.Limited => "limited",
        OutcomeClass.Degraded => "degraded",
        OutcomeClass.Unavailable => "unavailable",
        OutcomeClass.UpstreamFailed => "upstream_failed",
        OutcomeClass.Replayed => "replayed",
        OutcomeClass.NotInspectable => "not_inspectable",
        OutcomeClass.Violation => "violation",
        OutcomeClass.Revoked => "revoked",
        _ => "gateway_error",
    };
}
