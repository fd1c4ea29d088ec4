namespace AgentPerimeter.Benchmarks;

/// <summary>
/// What the preflight requests established: the starting point of the Redis window (its command counts and the Redis
/// gateway's decisions just before its preflight request), the MCP response's media type, the audit records of the
/// MCP preflight calls, the tunnel's connections after its preflight call, and the audit records of the egress preflight tunnels.
/// </summary>
internal sealed record PreflightResult(
    CommandStats RedisCommandsBefore, double RedisDecisionsBefore, string McpContentType, string McpAudit, int TunnelConnections, string EgressAudit);
