namespace AgentPerimeter.Gateway.Audit;

/// <summary>Somewhere off the log a checkpoint is published (a file, Redis).</summary>
public interface IAuditCheckpointSink
{
    /// <summary>Publishes one checkpoint. Must not block the audit writer for long, and must not throw.</summary>
    void Publish(AuditCheckpoint checkpoint);
}
