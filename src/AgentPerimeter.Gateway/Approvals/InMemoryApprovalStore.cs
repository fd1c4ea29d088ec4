using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Approvals;

public sealed class InMemoryApprovalStore(TimeProvider time, ApprovalOptions options) : IApprovalStore
{
    private readonly ConcurrentDictionary<string, Approval> _approvals = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<Approval> CreateAsync(Approval request)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            foreach (var existing in _approvals.Values)
            {
                if (existing.Status == ApprovalStatus.Pending && existing.SessionId == request.SessionId && existing.AgentId == request.AgentId
                    && existing.Fingerprint == request.Fingerprint && existing.ExpiresAt > now)
                    return Task.FromResult(existing);
            }
            // Decided or expired approvals are kept for a while for the operators' view, then forgotten.
            if (_approvals.Count > 1000)
            {
                foreach (var old in _approvals.Values.Where(a => a.ExpiresAt + options.Expiry < now))
                    _approvals.TryRemove(old.Id, out _);
            }
            _approvals[request.Id] = request;
        }
        return Task.FromResult(request);
    }

    public Task<Approval?> GetAsync(string id) =>
        Task.FromResult(_approvals.TryGetValue(id, out var a) ? a.AsOf(time.GetUtcNow()) : null);

    public Task<Approval?> FindAsync(string sessionId, string agentId, string fingerprint)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            return Task.FromResult(_approvals.Values
                .Where(a => a.SessionId == sessionId && a.AgentId == agentId && a.Fingerprint == fingerprint)
                .Select(a => a.AsOf(now))
                .Where(a => a.Status is ApprovalStatus.Pending or ApprovalStatus.Approved or ApprovalStatus.Denied)
                .MaxBy(a => a.CreatedAt));
        }
    }

    public Task<IReadOnlyList<Approval>> AllAsync()
    {
        var now = time.GetUtcNow();
        return Task.FromResult<IReadOnlyList<Approval>>([.. _approvals.Values.Select(a => a.AsOf(now)).OrderBy(a => a.CreatedAt)]);
    }

    public Task<bool?> DecideAsync(string id, bool approve, string by) =>
        Task.FromResult(Transition(id, ApprovalStatus.Pending, a => a with
        {
            Status = approve ? ApprovalStatus.Approved : ApprovalStatus.Denied, DecidedAt = time.GetUtcNow(), DecidedBy = by,
        }));

    public Task<bool> TryConsumeAsync(string id, string actionId) =>
        Task.FromResult(Transition(id, ApprovalStatus.Approved, a => a with { Status = ApprovalStatus.Used, UsedByAction = actionId }) == true);

    public Task RestoreAsync(string id, string actionId)
    {
        lock (_lock)
        {
            if (_approvals.TryGetValue(id, out var a) && a.Status == ApprovalStatus.Used && a.UsedByAction == actionId)
                _approvals[id] = a with { Status = ApprovalStatus.Approved, UsedByAction = null };
        }
        return Task.CompletedTask;
    }

    private bool? Transition(string id, ApprovalStatus from, Func<Approval, Approval> change)
    {
        lock (_lock)
        {
            if (!_approvals.TryGetValue(id, out var a))
                return null;
            if (a.AsOf(time.GetUtcNow()).Status != from)
                return false;
            _approvals[id] = change(a);
            return true;
        }
    }
}
