namespace AgentPerimeter.Gateway.Secrets;

/// <summary>A secret's value as a source holds it now.</summary>
public readonly record struct SecretRead(string? Value, string? Error);

/// <summary>
/// Where secret values live. Built in: <c>env</c> (an environment variable) and <c>file</c> (one file per
/// secret, as Kubernetes and Docker mount them; re-read when it changes). Register more kinds (a
/// vault, a cloud secret manager) as <see cref="ISecretProvider"/> services.
/// </summary>
public interface ISecretProvider
{
    /// <summary>The <c>Source:Kind</c> this provider serves.</summary>
    string Kind { get; }

    /// <summary>Checks a source's settings; returns its human-readable location (never the value) or an error.</summary>
    (string? Location, string? Error) Describe(IConfigurationSection source, string baseDirectory);

    /// <summary>Reads the current value. Called when the value is needed; cache as the source allows.</summary>
    SecretRead Read(string location);
}

/// <summary><c>{ "Kind": "env", "Name": "VARIABLE" }</c></summary>
public sealed class EnvironmentSecretProvider : ISecretProvider
{
    public string Kind => "env";

    public (string? Location, string? Error) Describe(IConfigurationSection source, string baseDirectory)
    {
        var name = source["Name"];
        return string.IsNullOrWhiteSpace(name)
            ? (null, "set Source:Name to the environment variable that holds the secret")
            : (name, null);
    }

    public SecretRead Read(string location)
    {
        var value = Environment.GetEnvironmentVariable(location);
        return string.IsNullOrEmpty(value) ? new SecretRead(null, $"environment variable '{location}' is not set or empty") : new SecretRead(value, null);
    }
}

/// <summary>
/// <c>{ "Kind": "file", "Path": "/run/secrets/github-token" }</c>: the whole file (trailing newline
/// trimmed) is the value. The file is re-read when its modification time or size changes, so a
/// rotation takes effect on the next request.
/// </summary>
public sealed class FileSecretProvider : ISecretProvider
{
    private readonly Dictionary<string, (DateTime Modified, long Length, string Value)> _cache = [];
    private readonly Lock _lock = new();

    public string Kind => "file";

    public (string? Location, string? Error) Describe(IConfigurationSection source, string baseDirectory)
    {
        var path = source["Path"];
        if (string.IsNullOrWhiteSpace(path))
            return (null, "set Source:Path to the file that holds the secret (one file per secret)");
        return (Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseDirectory, path)), null);
    }

    public SecretRead Read(string location)
    {
        try
        {
            var info = new FileInfo(location);
            if (!info.Exists)
                return new SecretRead(null, $"file '{location}' does not exist");
            lock (_lock)
            {
                if (_cache.TryGetValue(location, out var cached) && cached.Modified == info.LastWriteTimeUtc && cached.Length == info.Length)
                    return new SecretRead(cached.Value, null);
            }
            var value = File.ReadAllText(location).TrimEnd('\r', '\n');
            if (value.Length == 0)
                return new SecretRead(null, $"file '{location}' is empty");
            lock (_lock)
                _cache[location] = (info.LastWriteTimeUtc, info.Length, value);
            return new SecretRead(value, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new SecretRead(null, $"file '{location}' cannot be read ({ex.GetType().Name})");
        }
    }
}
