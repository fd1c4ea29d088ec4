using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>The recorded outcome of an action executed under an idempotency key.</summary>
public sealed record StoredOutcome
{
    /// <summary>"http" (status, type, body), "mcp" (a JSON-RPC result or error) or "unknown" (no complete answer was seen).</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }
    [JsonPropertyName("status")] public int Status { get; init; }
    [JsonPropertyName("content_type")] public string? ContentType { get; init; }
    [JsonPropertyName("content_encoding")] public string? ContentEncoding { get; init; }
    [JsonPropertyName("body")] public byte[]? Body { get; init; }
    /// <summary>MCP: "result" or "error", and its raw JSON.</summary>
    [JsonPropertyName("member")] public string? Member { get; init; }
    [JsonPropertyName("payload")] public string? Payload { get; init; }
    [JsonPropertyName("action_id")] public string? ActionId { get; init; }
}

public enum IdempotencyState
{
    /// <summary>First use of the key: this action executes; complete it afterwards.</summary>
    Started,
    /// <summary>An action with this key is executing right now.</summary>
    InProgress,
    /// <summary>Executed before: replay the outcome.</summary>
    Completed,
    /// <summary>The key was used for a different action.</summary>
    Mismatch,
}

public readonly record struct IdempotencyBegin(IdempotencyState State, StoredOutcome? Outcome);

/// <summary>Idempotency keys and the outcomes they recorded: Redis when configured (replicas share them), else memory.</summary>
public interface IIdempotencyStore
{
    /// <summary>
    /// Claims a key for <paramref name="keepFor"/>. A claim is never taken over: a key whose action has
    /// been executing for longer than <paramref name="pendingTimeout"/> (the gateway stopped mid-way) has an
    /// unknown outcome, and is never executed again.
    /// </summary>
    Task<IdempotencyBegin> BeginAsync(string key, string fingerprint, string claim, TimeSpan pendingTimeout, TimeSpan keepFor);
    Task CompleteAsync(string key, string fingerprint, StoredOutcome outcome, TimeSpan keepFor);
    /// <summary>Forgets a key whose action was refused before it reached the upstream, if <paramref name="claim"/> still holds it.</summary>
    Task ReleaseAsync(string key, string claim);
}

internal sealed record IdempotencyEntry(
    [property: JsonPropertyName("fp")] string Fingerprint,
    [property: JsonPropertyName("outcome")] StoredOutcome? Outcome,
    [property: JsonPropertyName("claim")] string? Claim = null,
    [property: JsonPropertyName("since")] DateTimeOffset Since = default);

public sealed class InMemoryIdempotencyStore(TimeProvider time, long maxRecordedBytes = 256L * 1024 * 1024) : IIdempotencyStore
{
    private readonly ConcurrentDictionary<string, (IdempotencyEntry Entry, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private long _recordedBytes;

    public Task<IdempotencyBegin> BeginAsync(string key, string fingerprint, string claim, TimeSpan pendingTimeout, TimeSpan keepFor)
    {
        var now = time.GetUtcNow();
        while (true)
        {
            if (_entries.TryGetValue(key, out var existing) && existing.Expires > now)
                return Task.FromResult(Classify(existing.Entry, fingerprint, now, pendingTimeout));
            var fresh = (new IdempotencyEntry(fingerprint, null, claim, now), now + keepFor);
            if (existing.Entry is null ? _entries.TryAdd(key, fresh) : _entries.TryUpdate(key, fresh, existing))
            {
                if (_entries.Count > 10_000)
                    Prune(now);
                return Task.FromResult(new IdempotencyBegin(IdempotencyState.Started, null));
            }
        }
    }

    public Task CompleteAsync(string key, string fingerprint, StoredOutcome outcome, TimeSpan keepFor)
    {
        // Memory is bounded: past the budget, the outcome is kept without its answer ("unknown" on a
        // replay) — the action is still never executed twice.
        long size = Size(outcome);
        if (Interlocked.Add(ref _recordedBytes, size) > maxRecordedBytes)
        {
            Prune(time.GetUtcNow());
            if (Volatile.Read(ref _recordedBytes) > maxRecordedBytes)
            {
                Interlocked.Add(ref _recordedBytes, -size);
                outcome = new StoredOutcome { Kind = "unknown", Status = outcome.Status, ActionId = outcome.ActionId };
            }
        }
        _entries.AddOrUpdate(key, (new IdempotencyEntry(fingerprint, outcome), time.GetUtcNow() + keepFor), (_, old) =>
        {
            if (old.Entry.Outcome is { } previous)
                Interlocked.Add(ref _recordedBytes, -Size(previous));
            return (new IdempotencyEntry(fingerprint, outcome), time.GetUtcNow() + keepFor);
        });
        return Task.CompletedTask;
    }

    private static long Size(StoredOutcome outcome) => (outcome.Body?.Length ?? 0) + (outcome.Payload?.Length ?? 0) * 2L;

    public Task ReleaseAsync(string key, string claim)
    {
        if (_entries.TryGetValue(key, out var existing) && existing.Entry.Claim == claim && existing.Entry.Outcome is null)
            _entries.TryRemove(new KeyValuePair<string, (IdempotencyEntry, DateTimeOffset)>(key, existing));
        return Task.CompletedTask;
    }

    internal static IdempotencyBegin Classify(IdempotencyEntry entry, string fingerprint, DateTimeOffset now, TimeSpan pendingTimeout) =>
        entry.Fingerprint != fingerprint ? new(IdempotencyState.Mismatch, null)
        : entry.Outcome is not null ? new(IdempotencyState.Completed, entry.Outcome)
        : now - entry.Since > pendingTimeout ? new(IdempotencyState.Completed, new StoredOutcome { Kind = "unknown" })
        : new(IdempotencyState.InProgress, null);

    private void Prune(DateTimeOffset now)
    {
        foreach (var (k, v) in _entries)
        {
            if (v.Expires <= now && _entries.TryRemove(new KeyValuePair<string, (IdempotencyEntry, DateTimeOffset)>(k, v)) && v.Entry.Outcome is { } outcome)
                Interlocked.Add(ref _recordedBytes, -Size(outcome));
        }
    }
}

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
            if (await db.StringSetAsync(Key(key), value, keepFor, When.NotExists).WaitAsync(timeout).ConfigureAwait(false))
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
