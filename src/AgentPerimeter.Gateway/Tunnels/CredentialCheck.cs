namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>How a connector's credential compares with the tunnel it claims.</summary>
public enum CredentialCheck
{
    Valid,
    /// <summary>Matches no tunnel.</summary>
    Invalid,
    /// <summary>Valid for a different tunnel: the connector claims a tunnel it is not entitled to.</summary>
    OtherTunnel,
    /// <summary>The tunnel's own credential cannot be read from its source right now.</summary>
    Unreadable,
}
