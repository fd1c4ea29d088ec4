using System.Collections.Frozen;
using System.Text.Json;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>One node: revocations in memory, persisted to a file so they outlive a restart.</summary>
public sealed class FileRevocationStore : IRevocationStore
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private volatile FrozenSet<string> _revoked;

    public FileRevocationStore(string path)
    {
        _path = Path.GetFullPath(path);
        _revoked = File.Exists(_path)
            ? (JsonSerializer.Deserialize<string[]>(File.ReadAllText(_path)) ?? []).ToFrozenSet(StringComparer.Ordinal)
            : FrozenSet<string>.Empty;
    }

    public IReadOnlyCollection<string> All => _revoked;

    public string? Problem => null;

    public bool IsRevoked(string sessionId, string agentId) =>
        _revoked.Count > 0 && (_revoked.Contains("session:" + sessionId) || _revoked.Contains("agent:" + agentId));

    public Task RevokeAsync(string kind, string id)
    {
        lock (_lock)
        {
            var next = _revoked.Append($"{kind}:{id}").ToFrozenSet(StringComparer.Ordinal);
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            File.WriteAllText(_path + ".tmp", JsonSerializer.Serialize(next.Order()));
            File.Move(_path + ".tmp", _path, overwrite: true);
            _revoked = next;
        }
        return Task.CompletedTask;
    }
}
