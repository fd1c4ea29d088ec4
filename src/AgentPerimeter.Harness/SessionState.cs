using Microsoft.Extensions.AI;
using ModelContextProtocol.Client;

namespace AgentPerimeter.Harness;

/// <summary>Everything one running session knows: the conversation, its counters, and the calls in flight.</summary>
internal sealed class SessionState
{
    public required string SessionId { get; init; }
    public required string WorkType { get; init; }
    public required string Agent { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public List<ChatMessage> Messages { get; } = [];
    public int Turns;
    public long InputTokens, OutputTokens;
    public int ConsecutiveErrors;
    /// <summary>Call id → idempotency key, for every call whose intent is journaled.</summary>
    public Dictionary<string, string> Intents { get; } = [];
    /// <summary>Call id → the approval it waits for.</summary>
    public Dictionary<string, string> Approvals { get; } = [];
    /// <summary>The last model turn's calls that have no outcome yet.</summary>
    public List<FunctionCallContent> Pending { get; set; } = [];
    public Journal Journal { get; set; } = null!;

    /// <summary>The session token in use (the sandbox passes it to the egress proxy as its credentials).</summary>
    public string Token { get; set; } = "";
    public Dictionary<string, (McpClient Client, McpClientTool Tool)> Tools { get; set; } = [];
}
