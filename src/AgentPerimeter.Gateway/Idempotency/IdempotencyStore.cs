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
    Task<IdempotencyBegin> BeginAsync(string key, string fingerprint, TimeSpan pendingFor);
    Task CompleteAsync(string key, string fingerprint, StoredOutcome outcome, TimeSpan keepFor);
    /// <summary>Forgets a key whose action was refused before it executed (it may be used again).</summary>
    Task ReleaseAsync(string key);
}

internal sealed record IdempotencyEntry(
    [property: JsonPropertyName("fp")] string Fingerprint,
    [property: JsonPropertyName("outcome")] StoredOutcome? Outcome);

public sealed class InMemoryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    private readonly ConcurrentDictionary<string, (IdempotencyEntry Entry, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);

    public Task<IdempotencyBegin> BeginAsync(string key, string fingerprint, TimeSpan pendingFor)
    {
        var now = time.GetUtcNow();
        while (true)
        {
            if (_entries.TryGetValue(key, out var existing) && existing.Expires > now)
                return Task.FromResult(Classify(existing.Entry, fingerprint));
            var fresh = (new IdempotencyEntry(fingerprint, null), now + pendingFor);
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
        _entries[key] = (new IdempotencyEntry(fingerprint, outcome), time.GetUtcNow() + keepFor);
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string key)
    {
        _entries.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    internal static IdempotencyBegin Classify(IdempotencyEntry entry, string fingerprint) =>
        entry.Fingerprint != fingerprint ? new(IdempotencyState.Mismatch, null)
        : entry.Outcome is null ? new(IdempotencyState.InProgress, null)
        : new(IdempotencyState.Completed, entry.Outcome);

    private void Prune(DateTimeOffset now)
    {
        foreach (var (k, v) in _entries)
        {
            if (v.Expires <= now)
                _entries.TryRemove(k, out _);
        }
    }
}

/// <summary>One key per idempotency key: <c>SET NX PX</c> claims it; the outcome replaces the claim.</summary>
public sealed class RedisIdempotencyStore(IConnectionMultiplexer redis, string prefix, TimeSpan timeout) : IIdempotencyStore
{
    private RedisKey Key(string key) => $"{prefix}:idem:{key}";

    public async Task<IdempotencyBegin> BeginAsync(string key, string fingerprint, TimeSpan pendingFor)
    {
        var db = redis.GetDatabase();
        var claim = JsonSerializer.Serialize(new IdempotencyEntry(fingerprint, null));
        for (int attempt = 0; attempt < 3; attempt++)
        {
            if (await db.StringSetAsync(Key(key), claim, pendingFor, When.NotExists).WaitAsync(timeout).ConfigureAwait(false))
                return new IdempotencyBegin(IdempotencyState.Started, null);
            var existing = await db.StringGetAsync(Key(key)).WaitAsync(timeout).ConfigureAwait(false);
            if (existing.HasValue && JsonSerializer.Deserialize<IdempotencyEntry>(existing.ToString()) is { } entry)
                return InMemoryIdempotencyStore.Classify(entry, fingerprint);
            // Expired between the two calls: claim again.
        }
        return new IdempotencyBegin(IdempotencyState.InProgress, null);
    }

    public Task CompleteAsync(string key, string fingerprint, StoredOutcome outcome, TimeSpan keepFor) =>
        redis.GetDatabase().StringSetAsync(Key(key), JsonSerializer.Serialize(new IdempotencyEntry(fingerprint, outcome)), keepFor).WaitAsync(timeout);

    public Task ReleaseAsync(string key) => redis.GetDatabase().KeyDeleteAsync(Key(key)).WaitAsync(timeout);
}
