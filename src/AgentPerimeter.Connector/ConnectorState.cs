namespace AgentPerimeter.Connector;

/// <summary>What the connector reports back to its host: a fatal refusal ends the process.</summary>
public sealed class ConnectorState
{
    public ConnectorRefusedException? Refusal { get; set; }
    public Action? Stop { get; set; }

    /// <summary>Connections currently open to the gateways (idle and busy).</summary>
    public int OpenConnections;
}
