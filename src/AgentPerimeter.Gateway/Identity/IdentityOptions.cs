namespace AgentPerimeter.Gateway.Identity;

/// <summary><c>Gateway:Identity</c>: how agents' bearer tokens are issued and validated.</summary>
public sealed class IdentityOptions
{
    /// <summary>Issuer (<c>iss</c>) of the gateway's own session tokens.</summary>
    public string Issuer { get; set; } = "agentperimeter";

    /// <summary>Audience (<c>aud</c>) every accepted token must carry, own or external.</summary>
    public string Audience { get; set; } = "agentperimeter";

    /// <summary>PEM file of the RSA signing key; created on first run when missing. Relative to the data directory.</summary>
    public string SigningKeyPath { get; set; } = "signing-key.pem";

    /// <summary>
    /// More public or private keys (PEM files, relative to the data directory) whose tokens are accepted and
    /// which the JWKS publishes, but which never sign: a key being rolled in (publish it on every replica
    /// before any signs with it) or rolled out (kept until the tokens it signed have expired).
    /// </summary>
    public List<string> VerificationKeyPaths { get; set; } = [];

    public TimeSpan DefaultTokenLifetime { get; set; } = TimeSpan.FromMinutes(30);
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(8);
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An external OIDC issuer whose tokens are also accepted; null when not configured.</summary>
    public ExternalIssuerOptions? External { get; set; }
}
