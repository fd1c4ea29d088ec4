namespace AgentPerimeter.Gateway.Identity;

/// <summary><c>Gateway:Identity:External</c>: an OIDC/JWKS issuer (a production identity provider).</summary>
public sealed class ExternalIssuerOptions
{
    /// <summary>The issuer's authority; its <c>/.well-known/openid-configuration</c> names the JWKS.</summary>
    public string? Authority { get; set; }

    /// <summary>Full metadata address, when it is not under the authority.</summary>
    public string? MetadataAddress { get; set; }

    /// <summary>The <c>iss</c> its tokens carry (defaults to the authority).</summary>
    public string? Issuer { get; set; }

    /// <summary>Audience its tokens must carry (defaults to <c>Identity:Audience</c>).</summary>
    public string? Audience { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Claim naming the agent.</summary>
    public string AgentClaim { get; set; } = "sub";

    /// <summary>Claim naming the session.</summary>
    public string SessionClaim { get; set; } = "sid";

    /// <summary>Claim naming the work type.</summary>
    public string WorkTypeClaim { get; set; } = "work_type";
}
