namespace AgentPerimeter.Protocol.Audit;

/// <summary>The result of verifying an audit log: how many records, and every break found.</summary>
/// <param name="Records">The records read.</param>
/// <param name="Errors">Every break found (capped), each naming its file and line: edits, deletions, reordering, missing files, truncation against checkpoints.</param>
/// <param name="LastHash">The hash of the last record; null for an empty log.</param>
public sealed record AuditVerification(long Records, IReadOnlyList<string> Errors, string? LastHash)
{
    /// <summary>True when no break was found (a torn last line is not a break: see <see cref="TornTail"/>).</summary>
    public bool IsIntact => Errors.Count == 0;

    /// <summary>Set when the last line of the series is incomplete: a write cut short by a crash, not an edit.</summary>
    public string? TornTail { get; init; }

    /// <summary>Files read.</summary>
    public int Files { get; init; }

    /// <summary>Sequence numbers of the first and last record read.</summary>
    public long FirstSeq { get; init; }

    /// <summary>The sequence number of the last record read.</summary>
    public long LastSeq { get; init; }

    /// <summary>Actions whose intent is recorded and whose outcome is not (in flight, or the gateway has not restarted since it stopped).</summary>
    public IReadOnlyList<string> OpenIntents { get; init; } = [];

    /// <summary>Actions a restart recorded as <c>outcome_unknown</c>: the gateway stopped while they were in flight.</summary>
    public IReadOnlyList<string> UnknownOutcomes { get; init; } = [];

    /// <summary>Checkpoints compared with the log.</summary>
    public int CheckpointsChecked { get; init; }
}
