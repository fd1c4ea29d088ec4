namespace AgentPerimeter.Gateway.Identity;

/// <summary>A request for a session token, as the admin API and <c>perimeter token</c> send it.</summary>
public sealed record SessionRequest(string? Agent, string? WorkType, int? TtlSeconds, string? SessionId = null);
