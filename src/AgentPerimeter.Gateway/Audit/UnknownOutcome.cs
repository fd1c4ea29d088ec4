namespace AgentPerimeter.Gateway.Audit;

/// <summary>An intent found with no outcome at startup: the gateway died while the action was in flight.</summary>
public sealed record UnknownOutcome(string ActionId, string? IdempotencyScope, string? IdempotencyFingerprint);
