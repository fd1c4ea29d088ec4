namespace AgentPerimeter.Gateway.Audit;

/// <summary>An anchor of the chain kept off the log: the record <see cref="Seq"/> of the series has hash <see cref="Hash"/>.</summary>
public sealed record AuditCheckpoint(DateTimeOffset Time, string File, long Seq, string Hash);
