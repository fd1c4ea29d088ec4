namespace AgentPerimeter.Harness;

/// <summary>What a refusal of a tool call means for the harness.</summary>
internal enum RefusalKind
{
    /// <summary>Not now (a rate limit, a store or tunnel briefly unavailable): wait and ask again.</summary>
    Temporary,
    /// <summary>A human must decide: wait for the approval, then repeat the call with it.</summary>
    Approval,
    /// <summary>The upstream failed or its outcome is unknown: repeat only a call that is safe to repeat.</summary>
    UpstreamFailure,
    /// <summary>Refused: the model is told, the call is not repeated.</summary>
    Final,
}
