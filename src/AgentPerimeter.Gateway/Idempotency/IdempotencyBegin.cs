using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Idempotency;

public readonly record struct IdempotencyBegin(IdempotencyState State, StoredOutcome? Outcome);
