namespace AgentPerimeter.Harness;

/// <summary>How a session ended: a typed reason (journaled and printed) and a detail.</summary>
public sealed record StopResult(string SessionId, string Reason, string? Detail, int Turns, long InputTokens, long OutputTokens);
