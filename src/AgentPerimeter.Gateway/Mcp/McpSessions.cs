using System.Collections.Concurrent;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// Binds each <c>Mcp-Session-Id</c> to the agent session whose <c>initialize</c> created it, so a
/// session id seen (or guessed) by another agent session is worthless.
/// </summary>
public sealed class McpSessions
{
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);

    /// <summary>Binds a new MCP session; an id already owned by another agent session is never rebound.</summary>
    public bool TryBind(string mcpSessionId, string agentSessionId) =>
        _owners.GetOrAdd(mcpSessionId, agentSessionId) == agentSessionId;

    public void Unbind(string mcpSessionId) => _owners.TryRemove(mcpSessionId, out _);

    /// <summary>Null when <paramref name="agentSessionId"/> owns the MCP session, else why not.</summary>
    public (int Status, string Code, string Message)? Check(string mcpSessionId, string agentSessionId)
    {
        if (!_owners.TryGetValue(mcpSessionId, out var owner))
            return (404, "mcp_session_unknown", "This MCP session is not known to the perimeter; start a new one with 'initialize'.");
        if (owner != agentSessionId)
            return (403, "mcp_session_not_owned", "This MCP session belongs to another agent session.");
        return null;
    }
}
