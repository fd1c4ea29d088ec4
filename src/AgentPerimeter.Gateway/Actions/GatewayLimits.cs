namespace AgentPerimeter.Gateway.Actions;

/// <summary>Request limits of the agent listener.</summary>
public sealed class GatewayLimits
{
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;
}
