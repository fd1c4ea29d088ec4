using System.Text.Json;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// Publishes checkpoints to Redis: the latest under <c>{prefix}:audit:checkpoint:{instance}</c> and the
/// last 10,000 in a list beside it, so a log cut short on one replica's disk is visible from any other place.
/// </summary>
public sealed class RedisCheckpointSink(IConnectionMultiplexer redis, string prefix, string instance) : IAuditCheckpointSink
{
    public void Publish(AuditCheckpoint checkpoint)
    {
        var value = JsonSerializer.Serialize(new { time = checkpoint.Time.UtcDateTime.ToString("O"), instance, file = checkpoint.File, seq = checkpoint.Seq, hash = checkpoint.Hash });
        var db = redis.GetDatabase();
        var key = $"{prefix}:audit:checkpoint:{instance}";
        // Fire and forget: the writer never waits on Redis; a lost checkpoint is made up by the next one.
        _ = db.StringSetAsync(key, value, flags: CommandFlags.FireAndForget);
        _ = db.ListLeftPushAsync(key + ":history", value, flags: CommandFlags.FireAndForget);
        _ = db.ListTrimAsync(key + ":history", 0, 9_999, CommandFlags.FireAndForget);
    }
}
