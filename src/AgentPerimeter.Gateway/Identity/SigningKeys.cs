using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>
/// The gateway's own RSA signing key. Loaded from a PEM file, or created there (mode 0600) on first
/// run so a fresh machine needs no key management to start.
/// </summary>
public sealed partial class SigningKeys
{
    public SigningKeys(string path, ILogger<SigningKeys> logger)
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
    }

    public string Path { get; }
    public RsaSecurityKey Key { get; }
    public SigningCredentials Credentials { get; }

    /// <summary>The public half as a JWKS document (for verifiers outside the gateway).</summary>
    public JsonWebKey PublicJwk()
    {
        var parameters = Key.Rsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey
        {
            Kty = "RSA",
            Use = "sig",
            Alg = SecurityAlgorithms.RsaSha256,
            Kid = Key.KeyId,
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
    }
}
