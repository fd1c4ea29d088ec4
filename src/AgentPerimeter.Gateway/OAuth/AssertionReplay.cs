using System.Collections.Concurrent;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.OAuth;

/// <summary>
/// Single use of <c>private_key_jwt</c> assertions (RFC 7523 §3): each client's <c>jti</c> is spent once until
/// the assertion expires — in Redis when configured (SET NX with the assertion's lifetime), so one assertion
/// cannot be redeemed once per replica; else in this gateway's memory.
/// </summary>
public sealed class AssertionReplay(IConnectionMultiplexer? redis, string prefix, TimeSpan timeout, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _used = new(StringComparer.Ordinal);

    /// <summary>True the first time; false for a replay. Throws when Redis cannot answer (the caller fails closed).</summary>
    public async Task<bool> TryUseAsync(string clientId, string jti, DateTimeOffset expires)
    {
        var key = Actions.RequestFingerprint.Hash(clientId + "\n" + jti);
        var ttl = expires - time.GetUtcNow();
        if (ttl <= TimeSpan.Zero)
            return false;
        if (redis is not null)
            return await redis.GetDatabase().StringSetAsync($"{prefix}:{{oauth}}:jti:{key}", "1", ttl, When.NotExists).WaitAsync(timeout).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var (k, until) in _used)
        {
            if (until < now)
                _used.TryRemove(k, out _);
        }
        return _used.TryAdd(key, expires);
    }
}
