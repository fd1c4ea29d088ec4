namespace AgentPerimeter.Gateway.Identity;

/// <summary>Who an action is for, taken from a validated token.</summary>
public sealed record AgentIdentity(string AgentId, string SessionId, string WorkType, string Issuer, DateTimeOffset ExpiresAt);
