namespace AgentPerimeter.Protocol.Audit;

/// <summary>The result of verifying an audit log: how many records, and every break found.</summary>
/// <param name="Records">The records read.</param>
/// <param name="Errors">Every break found (capped), each naming its line.</param>
/// <param name="LastHash">The hash of the last record; null for an empty log.</param>
public sealed record AuditVerification(long Records, IReadOnlyList<string> Errors, string? LastHash)
{
    /// <summary>True when no break was found.</summary>
    public bool IsIntact => Errors.Count == 0;
}
