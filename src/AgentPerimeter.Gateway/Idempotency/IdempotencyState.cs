namespace AgentPerimeter.Gateway.Idempotency;

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
