using System.Collections.Frozen;
using System.Text.Json;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>
/// Replicas: revocations live in a Redis set (so they outlive any gateway restart); a revocation is
/// published to every replica at once, and each replica also re-reads the set every 500 ms, so a
/// missed message (a replica reconnecting) still takes effect within a second.
/// </summary>
public sealed partial class RedisRevocationStore : IRevocationStore, IDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly string _setKey;
    private readonly RedisChannel _channel;
    private readonly ILogger<RedisRevocationStore> _logger;
    private readonly ITimer _timer;
    private volatile FrozenSet<string> _revoked = FrozenSet<string>.Empty;
    private readonly Lock _lock = new();

    public RedisRevocationStore(IConnectionMultiplexer redis, string prefix, TimeProvider time, ILogger<RedisRevocationStore> logger)
    {
        _redis = redis;
        _setKey = $"{prefix}:revoked";
        _channel = RedisChannel.Literal($"{prefix}:revocations");
        _logger = logger;
        _ = SyncAsync();
        _timer = time.CreateTimer(_ => _ = SyncAsync(), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
    }

    public IReadOnlyCollection<string> All => _revoked;

    public bool IsRevoked(string sessionId, string agentId) =>
        _revoked.Count > 0 && (_revoked.Contains("session:" + sessionId) || _revoked.Contains("agent:" + agentId));

    public string? Problem => _synced ? null : "revocations not yet read from redis";

    public async Task RevokeAsync(string kind, string id)
    {
        var entry = $"{kind}:{id}";
        var db = _redis.GetDatabase();
        await db.SetAddAsync(_setKey, entry).ConfigureAwait(false);
        await db.PublishAsync(_channel, entry).ConfigureAwait(false);
        Add(entry);
    }

    private void Add(string entry)
    {
        lock (_lock)
        {
            if (!_revoked.Contains(entry))
                _revoked = _revoked.Append(entry).ToFrozenSet(StringComparer.Ordinal);
        }
    }

    private volatile bool _subscribed;
    private volatile bool _synced;

    private int _syncing;

    // Asynchronous all the way: a blocked thread-pool thread per replica every 500 ms would starve the
    // very continuations the rate-limit calls complete on.
    private async Task SyncAsync()
    {
        if (Interlocked.Exchange(ref _syncing, 1) == 1)
            return;
        try
        {
            if (!_redis.IsConnected)
                return;
            // Subscribe once Redis is reachable (the gateway may start before it); the library
            // re-subscribes by itself after later reconnects.
            if (!_subscribed)
            {
                await _redis.GetSubscriber().SubscribeAsync(_channel, (_, message) => Add((string)message!)).ConfigureAwait(false);
                _subscribed = true;
            }
            var members = await _redis.GetDatabase().SetMembersAsync(_setKey).ConfigureAwait(false);
            lock (_lock)
                _revoked = _revoked.Union(members.Select(m => (string)m!)).ToFrozenSet(StringComparer.Ordinal);
            _synced = true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.SyncFailed(_logger, ex.GetType().Name);
        }
        finally
        {
            Volatile.Write(ref _syncing, 0);
        }
    }

    public void Dispose() => _timer.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "Could not read revocations from redis ({Error}); using the last known set")]
        public static partial void SyncFailed(ILogger logger, string error);
    }
}
