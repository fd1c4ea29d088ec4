namespace AgentPerimeter.Gateway.Identity;

/// <summary>The outcome of a session request: a token, or why not (as a value).</summary>
public sealed record SessionResult(SessionInfo? Session, string? Token, int Status, string? Error, string? Message);
