namespace AgentPerimeter.Gateway.OAuth;

/// <summary>
/// <c>Gateway:OAuth</c>: the gateway as an OAuth protected resource (RFC 9728 metadata, always served)
/// and, when clients are registered, as an OAuth 2.1 authorization server for machine clients
/// (RFC 8414 metadata, a <c>client_credentials</c> token endpoint).
/// </summary>
public sealed class OAuthOptions
{
    /// <summary>
    /// The agent listener's public base URL (<c>https://perimeter.example.com</c>): the resource
    /// identifier and the authorization server's issuer. Unset: taken from each request's scheme and
    /// host (restrict those with <c>Gateway:AllowedHosts</c>).
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>Lifetime of a token from the token endpoint (no longer than <c>Identity:MaxTokenLifetime</c>).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Machine clients by client id. Bound here so the configuration check knows the keys; the gateway uses
    /// what <see cref="OAuthClientCatalog"/> loads from this section (secret sources resolved, keys read, every
    /// problem an error naming the client).
    /// </summary>
    public Dictionary<string, OAuthClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One registered client: who it acts as, what it may ask for, how it proves itself.</summary>
public sealed class OAuthClientOptions
{
    /// <summary>The agent name its tokens carry (default: the client id). Work types' <c>Agents</c> lists apply to it.</summary>
    public string? Agent { get; set; }

    /// <summary>The work types it may request as scope <c>work_type:NAME</c>; the first is used when it asks for none.</summary>
    public List<string> WorkTypes { get; set; } = [];

    /// <summary>
    /// <c>client_secret_basic</c> / <c>client_secret_post</c>: where its secret lives, a secret source like
    /// <c>Perimeter:Secrets</c>' (<c>{ "Kind": "file", "Path": "secrets/ci-bot" }</c> or <c>{ "Kind": "env", "Variable": "…" }</c>).
    /// </summary>
    public Dictionary<string, string>? Secret { get; set; }

    /// <summary><c>private_key_jwt</c>: PEM file of the client's public key (RSA or EC), relative to the configuration directory.</summary>
    public string? PublicKeyPath { get; set; }

    /// <summary>A disabled client gets no token (its tokens already issued are revoked with <c>perimeter revoke --agent</c>).</summary>
    public bool Disabled { get; set; }
}
