namespace AgentPerimeter.Gateway.Actions;

/// <summary>The kind of thing that happened to an action after its decision; bounded, used as a label.</summary>
public enum OutcomeClass
{
    /// <summary>A limit of the work type refused it (governed: a rule of the work type decided).</summary>
    Limited,
    /// <summary>Let through without a check that could not be made (limit store down, work type fails open): ungoverned.</summary>
    Degraded,
    /// <summary>Refused because something the perimeter needs to decide safely is unreachable (a store, a credential).</summary>
    Unavailable,
    /// <summary>Forwarding failed or was cut: upstream unreachable, timed out, no tunnel connector, body not readable.</summary>
    UpstreamFailed,
    /// <summary>Answered from the record of an earlier execution (idempotency key), or refused to re-execute it.</summary>
    Replayed,
    /// <summary>The upstream answered in a form the perimeter must inspect but cannot.</summary>
    NotInspectable,
    /// <summary>The traffic broke the rule it was allowed under (a TLS server name that is not the CONNECT host, bytes that are not TLS): cut off.</summary>
    Violation,
    /// <summary>The kill switch closed it: its session or agent was revoked while it was open.</summary>
    Revoked,
    /// <summary>The perimeter itself failed while handling the action.</summary>
    GatewayError,
}
