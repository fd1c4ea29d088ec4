namespace AgentPerimeter.Gateway.Approvals;

/// <summary>
/// Pending and decided approvals. An approval is single use: the first matching action consumes it.
/// Redis when configured (every replica sees the same approvals), else the gateway's memory.
/// </summary>
public interface IApprovalStore
{
    /// <summary>Creates a pending approval, or returns the one already pending for the same session and action.</summary>
    Task<Approval> CreateAsync(Approval request);
    Task<Approval?> GetAsync(string id);
    Task<IReadOnlyList<Approval>> AllAsync();
    /// <summary>
    /// The latest approval held for this exact call (session, agent, fingerprint) that can still answer it:
    /// pending, approved or denied — not spent or expired. How a client that was shown the approval page
    /// finds its decision when it simply retries the call.
    /// </summary>
    async Task<Approval?> FindAsync(string sessionId, string agentId, string fingerprint) =>
        (await AllAsync().ConfigureAwait(false))
            .Where(a => a.SessionId == sessionId && a.AgentId == agentId && a.Fingerprint == fingerprint
                && a.Status is ApprovalStatus.Pending or ApprovalStatus.Approved or ApprovalStatus.Denied)
            .OrderByDescending(a => a.CreatedAt).FirstOrDefault();

    /// <summary>Approves or denies a pending approval; null if it does not exist, false if it is no longer pending.</summary>
    Task<bool?> DecideAsync(string id, bool approve, string by);
    /// <summary>Spends an approved approval on one action; false if it was spent (or changed) meanwhile.</summary>
    Task<bool> TryConsumeAsync(string id, string actionId);
    /// <summary>Gives a spent approval back when its action was refused before it reached the upstream.</summary>
    Task RestoreAsync(string id, string actionId);
}
