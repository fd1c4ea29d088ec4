namespace AgentPerimeter.Gateway.Audit;

/// <summary>How durable a record is when an action proceeds (<c>Gateway:Audit:Durability</c>).</summary>
public enum AuditDurability
{
    /// <summary>
    /// Default. Each batch is written and flushed to the device (fsync) before the actions waiting on it
    /// proceed: a record survives a process crash and a power loss.
    /// </summary>
    Fsync,

    /// <summary>
    /// Each batch is handed to the kernel with <c>write()</c> before the actions waiting on it proceed, and
    /// flushed to the device at most every <see cref="AuditOptions.FlushInterval"/>: a record survives a
    /// process crash (SIGKILL, OOM kill); a power loss or kernel crash can lose the last interval.
    /// </summary>
    Write,
}

/// <summary><c>Gateway:Audit</c>: where the audit log lives, how durable it is, how it rotates and is anchored.</summary>
public sealed class AuditOptions
{
    /// <summary>Path of the active append-only JSON-lines file. Relative paths are under the data directory.</summary>
    public string Path { get; set; } = "audit.jsonl";

    /// <summary>What "recorded" means before an action proceeds: <c>Fsync</c> (default) or <c>Write</c>.</summary>
    public AuditDurability Durability { get; set; } = AuditDurability.Fsync;

    /// <summary>In <c>Write</c> mode: the longest a written record waits for its flush to the device.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Rotate the active file once it reaches this size (bytes); 0 never rotates.</summary>
    public long MaxFileBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Rotated files kept beside the active one (oldest removed first); 0 keeps every file.</summary>
    public int MaxFiles { get; set; }

    /// <summary>A checkpoint (file, seq, hash) is published after this many records...</summary>
    public int CheckpointEveryRecords { get; set; } = 1000;

    /// <summary>...or this long after the previous one, whichever comes first (when records were written).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The checkpoint file (JSON lines, relative to the data directory). Ship it off the machine: it detects a truncated tail.</summary>
    public string CheckpointPath { get; set; } = "audit-checkpoints.jsonl";
}
