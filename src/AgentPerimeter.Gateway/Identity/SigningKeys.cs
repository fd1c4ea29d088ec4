using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>
/// The gateway's own RSA signing key. Loaded from a PEM file, or created there (mode 0600) on first
/// run so a fresh machine needs no key management to start.
/// </summary>
public sealed partial class SigningKeys
{
    public SigningKeys(string path, ILogger<SigningKeys> logger, IEnumerable<string>? verificationKeyPaths = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        var rsa = RSA.Create();
        if (File.Exists(Path))
        {
            rsa.ImportFromPem(File.ReadAllText(Path));
        }
        else
        {
            rsa.KeySize = 2048;
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var pem = rsa.ExportPkcs8PrivateKeyPem();
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // private key: owner only
            using (var file = new FileStream(Path, fileOptions))
            using (var writer = new StreamWriter(file))
                writer.Write(pem);
            Log.KeyCreated(logger, Path);
        }

        var key = new RsaSecurityKey(rsa);
        key.KeyId = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        Key = key;
        Credentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256);
        Log.KeyLoaded(logger, key.KeyId);

        var verification = new List<RsaSecurityKey> { key };
        foreach (var extra in verificationKeyPaths ?? [])
        {
            var full = System.IO.Path.GetFullPath(extra);
            var other = RSA.Create();
            other.ImportFromPem(File.ReadAllText(full)); // a private key's public half, or a public key
            var otherKey = new RsaSecurityKey(RSA.Create(other.ExportParameters(includePrivateParameters: false)));
            otherKey.KeyId = Base64UrlEncoder.Encode(otherKey.ComputeJwkThumbprint());
            if (verification.All(k => k.KeyId != otherKey.KeyId))
            {
                verification.Add(otherKey);
                Log.VerificationKeyLoaded(logger, otherKey.KeyId, full);
            }
        }
        VerificationKeys = verification;
    }

    /// <summary>Every key whose signature the gateway accepts: the signing key first, then the verification keys.</summary>
    public IReadOnlyList<RsaSecurityKey> VerificationKeys { get; }

    public string Path { get; }
    public RsaSecurityKey Key { get; }
    public SigningCredentials Credentials { get; }

    /// <summary>The public halves of every accepted key, the signing key first (the JWKS document's keys).</summary>
    public IEnumerable<JsonWebKey> PublicJwks() => VerificationKeys.Select(PublicJwk);

    /// <summary>The signing key's public half as a JWK (for verifiers outside the gateway).</summary>
    public JsonWebKey PublicJwk() => PublicJwk(Key);

    private static JsonWebKey PublicJwk(RsaSecurityKey key)
    {
        var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey
        {
            Kty = "RSA",
            Use = "sig",
            Alg = SecurityAlgorithms.RsaSha256,
            Kid = key.KeyId,
            N = Base64UrlEncoder.Encode(parameters.Modulus),
            E = Base64UrlEncoder.Encode(parameters.Exponent),
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "No signing key found; created a new one at {Path}")]
        public static partial void KeyCreated(ILogger logger, string path);

        [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Signing key {KeyId} loaded")]
        public static partial void KeyLoaded(ILogger logger, string keyId);

        [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Verification key {KeyId} loaded from {Path} (accepted and published, never signs)")]
        public static partial void VerificationKeyLoaded(ILogger logger, string keyId, string path);
    }
}
