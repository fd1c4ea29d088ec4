namespace AgentPerimeter.Gateway.Idempotency;

/// <summary><c>Gateway:Idempotency</c>: how long a key's outcome is kept and how much of an answer is recorded.</summary>
public sealed class IdempotencyOptions
{
    /// <summary>A key executes at most once within this window; a replay within it returns the first outcome.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a repeat waits (409) for an action still executing; after that its outcome counts as
    /// unknown (the gateway may have stopped mid-way) and it is never executed again under that key.
    /// </summary>
    public TimeSpan PendingTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Largest answer recorded for replay; a larger one is replayed as "outcome too large to keep".</summary>
    public int MaxRecordedBytes { get; set; } = 1024 * 1024;
}
