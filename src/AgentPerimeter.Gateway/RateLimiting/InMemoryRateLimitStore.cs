namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>
/// GCRA in memory, for a single node (the quick start). Same semantics as the Redis script: a limit of
/// L per P allows a burst of L, then one action every P/L; all of an action's limits are spent
/// together or not at all.
/// </summary>
public sealed class InMemoryRateLimitStore(TimeProvider time) : IRateLimitStore
{
    private readonly Dictionary<string, long> _tats = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _lastSweep;

    public string? Problem => null;

    public ValueTask<RateLimitResult> AcquireAsync(string partition, IReadOnlyList<LimitRule> limits, CancellationToken cancellationToken)
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        lock (_lock)
        {
            Sweep(now);
            var newTats = new long[limits.Count];
            long retry = 0;
            LimitRule? limiting = null;
            long remaining = long.MaxValue;
            for (int i = 0; i < limits.Count; i++)
            {
                var l = limits[i];
                long tat = _tats.TryGetValue(Key(partition, l), out var stored) ? Math.Max(stored, now) : now;
                long newTat = tat + l.EmissionMicros;
                if (newTat - now > l.PeriodMicros)
                {
                    long r = newTat - l.PeriodMicros - now;
                    if (r > retry)
                    {
                        retry = r;
                        limiting = l;
                    }
                }
                newTats[i] = newTat;
                remaining = Math.Min(remaining, (l.PeriodMicros - (newTat - now)) / l.EmissionMicros);
            }
            if (retry > 0)
                return ValueTask.FromResult(new RateLimitResult(false, TimeSpan.FromMicroseconds(retry), limiting, 0, null));
            for (int i = 0; i < limits.Count; i++)
                _tats[Key(partition, limits[i])] = newTats[i];
            return ValueTask.FromResult(new RateLimitResult(true, TimeSpan.Zero, null, Math.Max(0, remaining), null));
        }
    }

    private static string Key(string partition, LimitRule limit) => partition + "\n" + limit.Id;

    /// <summary>Forgets partitions whose budget is full again (at most once a minute).</summary>
    private void Sweep(long now)
    {
        if (now - _lastSweep < 60_000_000)
            return;
        _lastSweep = now;
        foreach (var (key, tat) in _tats.ToList())
        {
            if (tat < now)
                _tats.Remove(key);
        }
    }
}
