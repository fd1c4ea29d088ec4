using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Testing;

/// <summary>Hand-made tokens, good and hostile, for the identity tests.</summary>
public static class Tokens
{
    public static RsaSecurityKey GatewayKey(TestGateway gw)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(Path.Combine(gw.DataDir, "signing-key.pem")));
        return new RsaSecurityKey(rsa);
    }

    public static RsaSecurityKey NewRsaKey(string kid)
    {
        var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = kid };
        return key;
    }

    public static string Create(SecurityKey key, string algorithm, string issuer = "agentperimeter", string audience = "agentperimeter",
        string workType = "build", DateTime? notBefore = null, DateTime? expires = null, string agent = "ci-bot", string session = "ses_test")
    {
        var now = DateTime.UtcNow;
        var nbf = notBefore ?? now.AddMinutes(-1);
        var exp = expires ?? now.AddMinutes(10);
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = nbf,
            IssuedAt = nbf,
            Expires = exp,
            SigningCredentials = new SigningCredentials(key, algorithm),
            Subject = new ClaimsIdentity([new Claim("sub", agent), new Claim("sid", session), new Claim("work_type", workType)]),
        });
    }

    /// <summary>An unsigned token ("alg": "none") with otherwise valid claims.</summary>
    public static string AlgNone(string issuer = "agentperimeter")
    {
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode($$"""{"iss":"{{issuer}}","aud":"agentperimeter","sub":"mallory","sid":"ses_x","work_type":"build","exp":{{exp}}}""");
        return $"{header}.{payload}.";
    }

    /// <summary>The classic key-confusion forgery: HS256 keyed with the RSA public key's bytes.</summary>
    public static string Hs256WithPublicKey(RsaSecurityKey gatewayKey)
    {
        var publicPem = gatewayKey.Rsa.ExportSubjectPublicKeyInfoPem();
        var hmacKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(publicPem)) { KeyId = gatewayKey.KeyId };
        return Create(hmacKey, SecurityAlgorithms.HmacSha256);
    }
}
