using System.Collections.Frozen;
using System.Security.Cryptography;
using AgentPerimeter.Gateway.Secrets;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.OAuth;

/// <summary>A registered machine client, resolved at startup: its secret's source (never the value) or its public key.</summary>
public sealed class OAuthClient
{
    public required string Id { get; init; }
    public required string Agent { get; init; }
    public required IReadOnlyList<string> WorkTypes { get; init; }
    public ISecretProvider? SecretProvider { get; init; }
    public string? SecretLocation { get; init; }
    public SecurityKey? PublicKey { get; init; }
    public bool Disabled { get; init; }
}

/// <summary>Loads and checks <c>Gateway:OAuth:Clients</c>; every problem is an error naming the client.</summary>
public static class OAuthClientCatalog
{
    private static readonly string[] ClientKeys = ["Agent", "WorkTypes", "Secret", "PublicKeyPath", "Disabled"];

    public static FrozenDictionary<string, OAuthClient> Load(IConfigurationSection clients, SecretLoadContext context, List<string> errors)
    {
        var loaded = new Dictionary<string, OAuthClient>(StringComparer.Ordinal);
        foreach (var client in clients.GetChildren())
        {
            var id = client.Key;
            Policy.ConfigReader.CheckKeys(client, ClientKeys, errors);
            if (id.Length > 128 || id.Any(c => char.IsControl(c) || c == ':'))
            {
                errors.Add($"{client.Path}: client id '{id}' must be 1-128 printable characters without ':' (client_secret_basic separates id and secret with it).");
                continue;
            }
            var workTypes = client.GetSection("WorkTypes").GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0).ToList();
            if (workTypes.Count == 0)
                errors.Add($"{client.Path}:WorkTypes: list the work types client '{id}' may request (scope work_type:NAME), e.g. [ \"build\" ].");
            var agent = client["Agent"] is { Length: > 0 } a ? a : id;

            ISecretProvider? provider = null;
            string? location = null;
            var secret = client.GetSection("Secret");
            if (secret.Exists())
            {
                provider = context.Providers.FirstOrDefault(p => string.Equals(p.Kind, secret["Kind"], StringComparison.OrdinalIgnoreCase));
                if (provider is null)
                {
                    errors.Add($"{secret.Path}:Kind: client '{id}' needs its secret from a secret source: {string.Join(", ", context.Providers.Select(p => $"\"{p.Kind}\""))}.");
                }
                else
                {
                    (location, var error) = provider.Describe(secret, context.BaseDirectory);
                    if (location is null)
                        errors.Add($"{secret.Path}: client '{id}': {error}.");
                    else if (context.ResolveValues && provider.Read(location) is { } read)
                    {
                        if (read.Error is { } readError)
                            errors.Add($"{secret.Path}: the secret of client '{id}' (source {provider.Kind} '{location}') is missing: {readError}.");
                        else if (read.Value!.Length < 16)
                            errors.Add($"{secret.Path}: the secret of client '{id}' is shorter than 16 characters; use a long random value (e.g. openssl rand -hex 32).");
                    }
                }
            }

            SecurityKey? key = null;
            if (client["PublicKeyPath"] is { Length: > 0 } keyPath)
            {
                var path = Path.IsPathRooted(keyPath) ? keyPath : Path.GetFullPath(Path.Combine(context.BaseDirectory, keyPath));
                key = LoadPublicKey(path, out var keyError);
                if (key is null)
                    errors.Add($"{client.Path}:PublicKeyPath: client '{id}': {keyError}.");
            }
            if (!secret.Exists() && client["PublicKeyPath"] is not { Length: > 0 })
                errors.Add($"{client.Path}: client '{id}' needs a way to authenticate: Secret (client_secret_basic/post) or PublicKeyPath (private_key_jwt).");

            loaded[id] = new OAuthClient
            {
                Id = id, Agent = agent, WorkTypes = workTypes, SecretProvider = provider, SecretLocation = location, PublicKey = key,
                Disabled = string.Equals(client["Disabled"], "true", StringComparison.OrdinalIgnoreCase),
            };
        }
        return loaded.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static SecurityKey? LoadPublicKey(string path, out string? error)
    {
        error = null;
        if (!File.Exists(path))
        {
            error = $"file '{path}' does not exist";
            return null;
        }
        var pem = File.ReadAllText(path);
        try
        {
            if (TryEc(pem) is { } ec)
                return ec;
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa.ExportParameters(false));
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            error = $"'{path}' is not a PEM RSA or EC public key ({ex.Message})";
            return null;
        }
    }

    private static SecurityKey? TryEc(string pem)
    {
        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ECDsa.Create(ec.ExportParameters(false)));
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return null;
        }
    }
}
