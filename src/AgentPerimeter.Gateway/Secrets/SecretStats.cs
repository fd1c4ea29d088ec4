using System.Collections.Concurrent;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>Injection counts and last use per secret, for the inventory.</summary>
public sealed class SecretStats
{
    private readonly ConcurrentDictionary<string, (long Count, DateTimeOffset Last)> _stats = new(StringComparer.Ordinal);

    public void Injected(string secret, DateTimeOffset at) =>
        _stats.AddOrUpdate(secret, (1, at), (_, s) => (s.Count + 1, at));

    public (long Count, DateTimeOffset? Last) For(string secret) =>
        _stats.TryGetValue(secret, out var s) ? (s.Count, s.Last) : (0, null);
}
