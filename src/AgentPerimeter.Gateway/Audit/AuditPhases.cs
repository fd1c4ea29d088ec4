namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// The <c>phase</c> of an action's record. An action forwarded upstream has an <see cref="Intent"/>
/// (durable before the first byte goes upstream) and later an <see cref="Outcome"/> with the same
/// <c>action_id</c>; an action with no upstream effect has one <see cref="Single"/> record.
/// </summary>
public static class AuditPhases
{
    public const string Intent = "intent";
    public const string Outcome = "outcome";
    public const string Single = "single";
}
