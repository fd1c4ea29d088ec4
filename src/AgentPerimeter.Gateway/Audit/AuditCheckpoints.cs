namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// Decides when a checkpoint is due — every <see cref="AuditOptions.CheckpointEveryRecords"/> records or
/// <see cref="AuditOptions.CheckpointInterval"/> after the last one — and hands it to every sink. A hash
/// chain alone cannot show that its tail was cut off; a checkpoint kept elsewhere can.
/// </summary>
public sealed class AuditCheckpoints(AuditOptions options, TimeProvider time, IEnumerable<IAuditCheckpointSink> sinks)
{
    private readonly IAuditCheckpointSink[] _sinks = [.. sinks];
    private long _sinceLast;
    private long _lastAt = time.GetTimestamp();

    /// <summary>Called by the writer after each durable batch (under its lock).</summary>
    public void Observe(string file, long seq, string hash, int records)
    {
        _sinceLast += records;
        if (_sinceLast < options.CheckpointEveryRecords && time.GetElapsedTime(_lastAt) < options.CheckpointInterval)
            return;
        _sinceLast = 0;
        _lastAt = time.GetTimestamp();
        var checkpoint = new AuditCheckpoint(time.GetUtcNow(), file, seq, hash);
        foreach (var sink in _sinks)
            sink.Publish(checkpoint);
    }
}
