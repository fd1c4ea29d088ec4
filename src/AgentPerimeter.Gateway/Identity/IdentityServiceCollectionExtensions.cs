using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

public static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// Who the agent is: the gateway's own issuer (signing key at <paramref name="signingKeyPath"/>), an
    /// external OIDC issuer when configured, the identity resolver, and the kill switch's revocations
    /// (Redis when shared, else a file at <paramref name="revocationsPath"/>).
    /// </summary>
    /// <param name="isOwnResource">Whether a URL audience names a resource of this perimeter (under its public URL, or on one of its allowed hosts).</param>
    public static IServiceCollection AddPerimeterIdentity(this IServiceCollection services, IdentityOptions identity, string signingKeyPath, string revocationsPath, string? redisKeyPrefix,
        Func<string, bool>? isOwnResource = null)
    {
        services.AddSingleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>();
        services.AddOptions<IdentityOptions>().BindConfiguration("Gateway:Identity").ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<IdentityOptions>>().Value);
        services.AddSingleton(sp => new SigningKeys(signingKeyPath, sp.GetRequiredService<ILogger<SigningKeys>>(),
            identity.VerificationKeyPaths));
        services.AddSingleton<SessionIssuer>();
        services.AddSingleton<IdentityResolver>();
        if (redisKeyPrefix is null)
            services.AddSingleton<IRevocationStore>(_ => new FileRevocationStore(revocationsPath));
        else
            services.AddSingleton<IRevocationStore>(sp => new RedisRevocationStore(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(),
                redisKeyPrefix, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RedisRevocationStore>>()));

        // WebApplication adds the authentication middleware by itself, and ASP.NET Core makes a lone
        // scheme the default: together they would validate every token on every request before the
        // identity stage's cache is consulted. The identity stage chooses the scheme per issuer, so
        // there is no default scheme.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        var auth = services.AddAuthentication();
        auth.AddJwtBearer(IdentityResolver.OwnScheme, _ => { });
        services.AddOptions<JwtBearerOptions>(IdentityResolver.OwnScheme).Configure<SigningKeys>((o, keys) =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = identity.Issuer,
                // The perimeter's audience, or a resource URL the token endpoint bound the token to (RFC 8707);
                // the identity stage then holds each request to that resource.
                AudienceValidator = (audiences, _, _) => audiences.Count() == 1 && audiences.Single() is { } aud
                    && (aud == identity.Audience || (isOwnResource is not null && IdentityResolver.IsResourceAudience(aud) && isOwnResource(aud))),
                IssuerSigningKeys = keys.VerificationKeys,
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                ClockSkew = identity.ClockSkew,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
            };
        });

        if (identity.External is { } ext)
        {
            auth.AddJwtBearer(IdentityResolver.ExternalScheme, o =>
            {
                o.MapInboundClaims = false;
                o.Authority = ext.Authority;
                if (!string.IsNullOrEmpty(ext.MetadataAddress))
                    o.MetadataAddress = ext.MetadataAddress;
                o.RequireHttpsMetadata = ext.RequireHttpsMetadata;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = ext.Issuer ?? ext.Authority,
                    ValidAudience = ext.Audience ?? identity.Audience,
                    // Asymmetric algorithms only: an HMAC "signed" with a public key must never verify.
                    ValidAlgorithms =
                    [
                        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384,
                    ],
                    ClockSkew = identity.ClockSkew,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                };
            });
        }
        return services;
    }
}
