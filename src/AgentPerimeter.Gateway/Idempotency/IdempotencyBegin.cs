namespace AgentPerimeter.Gateway.Idempotency;

public readonly record struct IdempotencyBegin(IdempotencyState State, StoredOutcome? Outcome);
