using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Idempotency;

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
