namespace AgentPerimeter.Gateway.Audit;

/// <summary>An action whose intent is recorded and whose outcome is not yet: it may be acting upstream right now.</summary>
public sealed record InFlightAction(string ActionId, string? Agent, string? WorkType, string? Route, string Method, string Target, DateTimeOffset Started);
