namespace AgentPerimeter.Gateway.Secrets;

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
