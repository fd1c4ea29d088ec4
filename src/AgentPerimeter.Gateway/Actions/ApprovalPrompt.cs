namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// A held call shown to the person in front of the client: the approval page's URL, for a client that
/// declared URL-mode elicitation (MCP 2025-11-25: a <c>-32042</c> error carrying it; 2026-07-28: an
/// <c>InputRequiredResult</c>). Set by the approval gate; the protocol's refusal writer renders it.
/// </summary>
public sealed record ApprovalPrompt(string ApprovalId, string Url, string Message);
