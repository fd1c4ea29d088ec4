namespace AgentPerimeter.Gateway.Actions;

/// <summary>Request limits of the agent listener.</summary>
public sealed class GatewayLimits
{
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>The largest MCP message (a JSON answer, one server-sent event) the gateway inspects; a larger one is not relayed.</summary>
    public int MaxInspectedMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long an upstream may stay silent (no header, no byte) before the action times out, for clusters that set none.</summary>
    public TimeSpan UpstreamActivityTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
