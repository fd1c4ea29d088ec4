namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// Bounded codes for where a ClientHello broke the format (<see cref="ClientHelloResult.Problem"/>), for
/// logs and records; an agent is told only that its TLS handshake was refused.
/// </summary>
internal static class ClientHelloProblem
{
    /// <summary>A record of another type (alert, change_cipher_spec, data) inside the ClientHello.</summary>
    public const string RecordType = "record_type";

    /// <summary>A record version outside 0x0301–0x0304 (SSL 3.0 and older are not spoken).</summary>
    public const string RecordVersion = "record_version";

    /// <summary>A record of zero bytes or longer than 2^14 (RFC 8446 §5.1).</summary>
    public const string RecordLength = "record_length";

    /// <summary>The first handshake message is not a ClientHello.</summary>
    public const string HandshakeType = "handshake_type";

    /// <summary>The ClientHello (records and headers included) would not fit <see cref="TlsClientHello.MaxBytes"/>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>A record holds bytes after the ClientHello, or a length inside the hello does not add up.</summary>
    public const string TrailingData = "trailing_data";

    /// <summary>The ClientHello's legacy_version is not TLS (major version 3, minor 1 or more).</summary>
    public const string HelloVersion = "hello_version";

    /// <summary>The hello ends inside its fixed fields (version, random).</summary>
    public const string Truncated = "truncated";

    public const string SessionId = "session_id";

    public const string CipherSuites = "cipher_suites";

    public const string CompressionMethods = "compression_methods";

    /// <summary>The extensions block's length, or one extension's, runs past its end.</summary>
    public const string Extensions = "extensions";

    /// <summary>An extension type appears twice (RFC 8446 §4.2 forbids it; a server and the proxy could read different copies).</summary>
    public const string DuplicateExtension = "duplicate_extension";

    /// <summary>The server_name extension is not one host_name entry (RFC 6066 §3).</summary>
    public const string ServerName = "server_name";

    /// <summary>The server_name extension names more than one host (RFC 6066 §3).</summary>
    public const string MultipleServerNames = "server_name_multiple";

    /// <summary>The host name is not a DNS host name (bad characters or label lengths, or an IP literal).</summary>
    public const string InvalidServerName = "server_name_invalid";
}
