namespace AgentPerimeter.Gateway.Idempotency;

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
