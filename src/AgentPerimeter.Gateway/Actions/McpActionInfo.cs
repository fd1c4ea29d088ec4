namespace AgentPerimeter.Gateway.Actions;

/// <summary>The MCP side of an action, set by the MCP stage and written into the audit record.</summary>
public sealed class McpActionInfo
{
    /// <summary>JSON-RPC method (null for a client's response to a server request, or a GET/DELETE).</summary>
    public string? Method { get; set; }
    public string? RawId { get; set; }
    public McpMessageKind? MessageKind { get; set; }

    /// <summary>Tool name, resource URI or prompt name the message targets.</summary>
    public string? Target { get; set; }

    /// <summary>Tool arguments as JSON, capped for the audit record.</summary>
    public string? Arguments { get; set; }

    /// <summary>The arguments as sent, uncapped (shown to the human deciding an approval).</summary>
    public string? FullArguments { get; set; }

    /// <summary>SHA-256 (hex) of the arguments exactly as sent: what approvals and idempotency keys bind to.</summary>
    public string? ArgumentsHash { get; set; }

    /// <summary>The MCP protocol version the message was sent under (<c>MCP-Protocol-Version</c>, or an initialize's <c>protocolVersion</c>).</summary>
    public string? ProtocolVersion { get; set; }

    /// <summary>The <c>Mcp-Session-Id</c> in use.</summary>
    public string? SessionId { get; set; }

    /// <summary>"tools", "resources", "resourceTemplates" or "prompts" when the answer is a list to filter.</summary>
    public string? ListKind { get; set; }

    /// <summary>
    /// MCP 2026-07-28: <c>input_required</c> when the server answered with an InputRequiredResult (it asks the
    /// client for more before it acts; the client's retry is a new action), followed by what it asks for
    /// (<c>input_required: elicitation/create</c>). Null for an ordinary result.
    /// </summary>
    public string? ResultType { get; set; }

    /// <summary>
    /// Whether the client declared URL-mode elicitation (<c>capabilities.elicitation.url</c>: at initialize,
    /// remembered for its MCP session, or in a 2026-07-28 request's <c>_meta</c>): a held call then shows it the approval page.
    /// </summary>
    public bool ClientElicitsUrl { get; set; }

    /// <summary>"client" for what the agent sent; "server" for messages the server streamed back.</summary>
    public string Direction { get; set; } = "client";
}
