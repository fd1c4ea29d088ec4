namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The outcome of reading the first bytes of a CONNECT tunnel: need more, not TLS, a ClientHello (with the
/// host it names, if it names one), or malformed (with where). An expected outcome, so a value, never an
/// exception: a tunnel's first bytes are whatever an agent chose to send.
/// </summary>
internal sealed class ClientHelloResult
{
    private ClientHelloResult(ClientHelloStatus status, string? serverName, bool offersEncryptedClientHello, string? problem)
    {
        Status = status;
        ServerName = serverName;
        OffersEncryptedClientHello = offersEncryptedClientHello;
        Problem = problem;
    }

    public static ClientHelloResult NeedMoreData { get; } = new(ClientHelloStatus.NeedMoreData, null, false, null);

    public static ClientHelloResult NotTls { get; } = new(ClientHelloStatus.NotTls, null, false, null);

    public ClientHelloStatus Status { get; }

    /// <summary>
    /// With <see cref="ClientHelloStatus.Tls"/>: the SNI host name, lower-case ASCII (an internationalised name
    /// arrives as its xn-- form), without a trailing dot; null when the hello has no server_name extension
    /// (a client connecting to an IP literal sends none).
    /// </summary>
    public string? ServerName { get; }

    /// <summary>
    /// With <see cref="ClientHelloStatus.Tls"/>: the hello carries an Encrypted Client Hello extension, so
    /// <see cref="ServerName"/> is only the public, outer name and the server may act on another one inside.
    /// </summary>
    public bool OffersEncryptedClientHello { get; }

    /// <summary>With <see cref="ClientHelloStatus.Malformed"/>: one of <see cref="ClientHelloProblem"/>.</summary>
    public string? Problem { get; }

    public static ClientHelloResult Tls(string? serverName, bool offersEncryptedClientHello) =>
        new(ClientHelloStatus.Tls, serverName, offersEncryptedClientHello, null);

    public static ClientHelloResult Malformed(string problem) => new(ClientHelloStatus.Malformed, null, false, problem);

    public override string ToString() => Status switch
    {
        ClientHelloStatus.Tls => $"Tls({ServerName ?? "no SNI"}{(OffersEncryptedClientHello ? ", ECH" : "")})",
        ClientHelloStatus.Malformed => $"Malformed({Problem})",
        _ => Status.ToString(),
    };
}
