namespace AgentPerimeter.Gateway.Identity;

/// <summary>A session the gateway issued a token for (never the token itself).</summary>
public sealed record SessionInfo(string SessionId, string AgentId, string WorkType, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);
