using System.Collections.Concurrent;

namespace AgentPerimeter.Gateway.Approvals;

public enum ApprovalStatus
{
    Pending,
    Approved,
    Denied,
    /// <summary>Approved and spent by the one action it was for.</summary>
    Used,
    Expired,
}

/// <summary>A held action waiting for (or decided by) a human: bound to one session, route, target and argument set.</summary>
public sealed class Approval
{
    public required string Id { get; init; }
    public required string AgentId { get; init; }
    public required string SessionId { get; init; }
    public required string WorkType { get; init; }
    public required string Route { get; init; }
    public required string RuleId { get; init; }
    /// <summary>"tools/call deploy" or "POST /api/deployments".</summary>
    public required string What { get; init; }
    /// <summary>The arguments as sent (capped), for the human deciding.</summary>
    public string? Arguments { get; init; }
    public required string Fingerprint { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public ApprovalStatus Status { get; internal set; }
    public DateTimeOffset? DecidedAt { get; internal set; }
    public string? DecidedBy { get; internal set; }
    public string? UsedByAction { get; internal set; }
}

/// <summary><c>Gateway:Approvals</c>.</summary>
public sealed class ApprovalOptions
{
    /// <summary>How long a held action may wait for a decision, and an approval for its use.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Pending and decided approvals, in the gateway's memory (one node: a restart forgets pending ones,
/// and the harness asks again). An approval is single use: the first matching action consumes it.
/// </summary>
public sealed class ApprovalStore(TimeProvider time, ApprovalOptions options)
{
    private readonly ConcurrentDictionary<string, Approval> _approvals = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Approval Create(string agent, string session, string workType, string route, string rule, string what, string? arguments, string fingerprint)
    {
        var now = time.GetUtcNow();
        // A caller asking again for the same held call gets the same pending approval, not another one.
        foreach (var existing in _approvals.Values)
        {
            if (existing.Status == ApprovalStatus.Pending && existing.SessionId == session && existing.AgentId == agent
                && existing.Fingerprint == fingerprint && existing.ExpiresAt > now)
                return existing;
        }
        // Decided or expired approvals are kept for a while for the operators' view, then forgotten.
        if (_approvals.Count > 1000)
        {
            foreach (var old in _approvals.Values.Where(a => a.ExpiresAt + options.Expiry < now))
                _approvals.TryRemove(old.Id, out _);
        }
        var approval = new Approval
        {
            Id = "apr_" + Guid.CreateVersion7().ToString("N"),
            AgentId = agent, SessionId = session, WorkType = workType, Route = route, RuleId = rule, What = what,
            Arguments = arguments, Fingerprint = fingerprint, CreatedAt = now, ExpiresAt = now + options.Expiry,
        };
        _approvals[approval.Id] = approval;
        return approval;
    }

    public Approval? Get(string id)
    {
        if (!_approvals.TryGetValue(id, out var approval))
            return null;
        lock (_lock)
        {
            if (approval.Status is ApprovalStatus.Pending or ApprovalStatus.Approved && approval.ExpiresAt <= time.GetUtcNow())
                approval.Status = ApprovalStatus.Expired;
        }
        return approval;
    }

    public IEnumerable<Approval> All => _approvals.Values.Select(a => Get(a.Id)!).OrderBy(a => a.CreatedAt);

    /// <summary>Approves or denies a pending approval; null if it does not exist, false if it is no longer pending.</summary>
    public bool? Decide(string id, bool approve, string by)
    {
        var approval = Get(id);
        if (approval is null)
            return null;
        lock (_lock)
        {
            if (approval.Status != ApprovalStatus.Pending)
                return false;
            approval.Status = approve ? ApprovalStatus.Approved : ApprovalStatus.Denied;
            approval.DecidedAt = time.GetUtcNow();
            approval.DecidedBy = by;
            return true;
        }
    }

    /// <summary>Gives a spent approval back when its action was refused before it reached the upstream.</summary>
    public void Restore(Approval approval, string actionId)
    {
        lock (_lock)
        {
            if (approval.Status == ApprovalStatus.Used && approval.UsedByAction == actionId)
            {
                approval.Status = ApprovalStatus.Approved;
                approval.UsedByAction = null;
            }
        }
    }

    /// <summary>Spends an approved approval on one action; false if it was spent (or changed) meanwhile.</summary>
    public bool TryConsume(Approval approval, string actionId)
    {
        lock (_lock)
        {
            if (approval.Status != ApprovalStatus.Approved)
                return false;
            approval.Status = ApprovalStatus.Used;
            approval.UsedByAction = actionId;
            return true;
        }
    }
}
