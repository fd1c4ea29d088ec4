namespace AgentPerimeter.Connector;

/// <summary>The gateway refused this connector (wrong credential, another tunnel's credential, unknown tunnel): retrying cannot help.</summary>
public sealed class ConnectorRefusedException(int status, string code, Uri gateway)
    : Exception($"The gateway {gateway.GetLeftPart(UriPartial.Authority)} refused this connector: HTTP {status} {code}.")
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}
