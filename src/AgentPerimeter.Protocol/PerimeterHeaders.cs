namespace AgentPerimeter.Protocol;

/// <summary>HTTP header names of the perimeter's wire contract.</summary>
public static class PerimeterHeaders
{
    /// <summary>On every answer of the agent listener: the id of the action the audit log recorded for the request.</summary>
    public const string ActionId = "X-Perimeter-Action-Id";

    /// <summary>On a repeated request: the approval id a human decided (the HTTP twin of <see cref="PerimeterMeta.ApprovalId"/>).</summary>
    public const string Approval = "X-Perimeter-Approval";

    /// <summary>The caller's idempotency key: the first request with a key executes, a repeat replays its outcome.</summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>On a refused tunnel handshake: the refusal code (one of <see cref="Refusals.RefusalCodes"/>).</summary>
    public const string Error = "X-Perimeter-Error";

    /// <summary>The MCP Streamable HTTP session header, bound by the gateway to the agent session that created it.</summary>
    public const string McpSessionId = "Mcp-Session-Id";

    /// <summary>On an admin approval decision: who decided (recorded as <c>decided_by</c>).</summary>
    public const string Operator = "X-Perimeter-Operator";
}
