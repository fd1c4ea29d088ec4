namespace AgentPerimeter.Gateway.Egress;

/// <summary>What <see cref="TlsClientHello.TryParse"/> made of the first bytes of a tunnel.</summary>
internal enum ClientHelloStatus
{
    /// <summary>A prefix of a ClientHello so far: read more (up to <see cref="TlsClientHello.MaxBytes"/> in all) and parse again.</summary>
    NeedMoreData,

    /// <summary>The first byte is not a TLS handshake record: some other protocol (HTTP, SSH, …) or SSL 2.0.</summary>
    NotTls,

    /// <summary>A complete, well-formed ClientHello; <see cref="ClientHelloResult.ServerName"/> is its SNI, if any.</summary>
    Tls,

    /// <summary>It starts like TLS but breaks the format; <see cref="ClientHelloResult.Problem"/> says where.</summary>
    Malformed,
}
