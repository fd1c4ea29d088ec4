using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>One key per idempotency key: <c>SET NX PX</c> claims it; the outcome replaces the claim.</summary>
public sealed class RedisIdempotencyStore(IConnectionMultiplexer redis, string prefix, TimeSpan timeout, TimeProvider time) : IIdempotencyStore
{
    // Deletes the key only while it still holds this claim (no outcome yet): a late release never
    // removes another action's claim or a recorded outcome.
    private const string ReleaseScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

    // One key per idempotency key, hash-tagged so a cluster keeps it on one slot.
    private RedisKey Key(string key) => $"{prefix}:{{idem}}:{key}";

    public async Task<IdempotencyBegin> BeginAsync(string key, string fingerprint, string claim, TimeSpan pendingTimeout, TimeSpan keepFor)
    {
        var db = redis.GetDatabase();
        var now = time.GetUtcNow();
        var value = JsonSerializer.Serialize(new IdempotencyEntry(fingerprint, null, claim, now));
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var set = db.StringSetAsync(Key(key), value, keepFor, When.NotExists);
            bool claimed;
            try
            {
                claimed = await set.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The gateway gives up, so nothing will execute under this claim, but Redis may still run
                // the SET later: should it land, take it back at once, or it would block the key (409, then
                // "outcome unknown" for the whole window) although nothing was executed.
                _ = set.ContinueWith(static (t, state) =>
                {
                    var (db, redisKey, written) = ((IDatabase, RedisKey, string))state!;
                    if (t.IsCompletedSuccessfully && t.Result)
                        _ = db.ScriptEvaluateAsync(ReleaseScript, [redisKey], [written]).ContinueWith(static r => _ = r.Exception, TaskScheduler.Default);
                    _ = t.Exception; // observed: a late failure means no claim was written
                }, (db, Key(key), value), TaskScheduler.Default);
                throw;
            }
            if (claimed)
                return new IdempotencyBegin(IdempotencyState.Started, null);
            var existing = await db.StringGetAsync(Key(key)).WaitAsync(timeout).ConfigureAwait(false);
            if (existing.HasValue && JsonSerializer.Deserialize<IdempotencyEntry>(existing.ToString()) is { } entry)
                return InMemoryIdempotencyStore.Classify(entry, fingerprint, now, pendingTimeout);
            // Released between the two calls: claim again.
        }
        return new IdempotencyBegin(IdempotencyState.InProgress, null);
    }

    public Task CompleteAsync(string key, string fingerprint, StoredOutcome outcome, TimeSpan keepFor) =>
        redis.GetDatabase().StringSetAsync(Key(key), JsonSerializer.Serialize(new IdempotencyEntry(fingerprint, outcome)), keepFor).WaitAsync(timeout);

    public async Task ReleaseAsync(string key, string claim)
    {
        var db = redis.GetDatabase();
        var existing = await db.StringGetAsync(Key(key)).WaitAsync(timeout).ConfigureAwait(false);
        if (existing.HasValue && JsonSerializer.Deserialize<IdempotencyEntry>(existing.ToString()) is { Outcome: null } entry && entry.Claim == claim)
            await db.ScriptEvaluateAsync(ReleaseScript, [Key(key)], [existing]).WaitAsync(timeout).ConfigureAwait(false);
    }
}
