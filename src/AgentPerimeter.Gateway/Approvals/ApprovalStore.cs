using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Approvals;

[JsonConverter(typeof(JsonStringEnumConverter<ApprovalStatus>))]
public enum ApprovalStatus
{
    Pending,
    Approved,
    Denied,
    /// <summary>Approved and spent by the one action it was for.</summary>
    Used,
    Expired,
}

/// <summary>A held action waiting for (or decided by) a human: bound to one agent, work type, session, route, target and argument set.</summary>
public sealed record Approval
{
    public required string Id { get; init; }
    public required string AgentId { get; init; }
    public required string SessionId { get; init; }
    public required string WorkType { get; init; }
    public required string Route { get; init; }
    public required string RuleId { get; init; }
    /// <summary>"tools/call deploy" or "POST /api/deployments?x=1".</summary>
    public required string What { get; init; }
    /// <summary>The arguments (or body) as sent, for the human deciding.</summary>
    public string? Arguments { get; init; }
    public required string Fingerprint { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public ApprovalStatus Status { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? UsedByAction { get; init; }

    /// <summary>Pending or approved past its expiry reads as expired.</summary>
    public Approval AsOf(DateTimeOffset now) =>
        Status is ApprovalStatus.Pending or ApprovalStatus.Approved && ExpiresAt <= now ? this with { Status = ApprovalStatus.Expired } : this;
}

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
    /// <summary>Approves or denies a pending approval; null if it does not exist, false if it is no longer pending.</summary>
    Task<bool?> DecideAsync(string id, bool approve, string by);
    /// <summary>Spends an approved approval on one action; false if it was spent (or changed) meanwhile.</summary>
    Task<bool> TryConsumeAsync(string id, string actionId);
    /// <summary>Gives a spent approval back when its action was refused before it reached the upstream.</summary>
    Task RestoreAsync(string id, string actionId);
}

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

/// <summary>
/// Approvals in Redis: one JSON value per approval, changed only by a script that checks the status
/// it expects (so an approval is decided once and spent once, whichever replica asks), a sorted set
/// as the operators' index, and a key per pending (session, action) for deduplication.
/// </summary>
public sealed class RedisApprovalStore(IConnectionMultiplexer redis, string prefix, TimeSpan timeout, TimeProvider time, ApprovalOptions options) : IApprovalStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // ARGV: expected status, new JSON. Replaces the value only if its status is still the expected one.
    private const string TransitionScript = """
        local current = redis.call('GET', KEYS[1])
        if not current then return -1 end
        if cjson.decode(current)['status'] ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
        return 1
        """;

    private RedisKey Key(string id) => $"{prefix}:{{approvals}}:{id}";
    private RedisKey Index => $"{prefix}:{{approvals}}:index";
    private RedisKey PendingKey(Approval a) => $"{prefix}:{{approvals}}:pending:{Actions.RequestFingerprint.Hash($"{a.AgentId}|{a.SessionId}|{a.Fingerprint}")}";
    private TimeSpan Retention => options.Expiry * 2;

    public async Task<Approval> CreateAsync(Approval request)
    {
        var db = redis.GetDatabase();
        if (!await db.StringSetAsync(PendingKey(request), request.Id, options.Expiry, When.NotExists).WaitAsync(timeout).ConfigureAwait(false))
        {
            var existingId = await db.StringGetAsync(PendingKey(request)).WaitAsync(timeout).ConfigureAwait(false);
            if (existingId.HasValue && await GetAsync(existingId.ToString()).ConfigureAwait(false) is { Status: ApprovalStatus.Pending } pending)
                return pending;
            await db.StringSetAsync(PendingKey(request), request.Id, options.Expiry).WaitAsync(timeout).ConfigureAwait(false);
        }
        var now = time.GetUtcNow();
        await db.StringSetAsync(Key(request.Id), JsonSerializer.Serialize(request, Json), Retention).WaitAsync(timeout).ConfigureAwait(false);
        await db.SortedSetAddAsync(Index, request.Id, request.CreatedAt.ToUnixTimeMilliseconds()).WaitAsync(timeout).ConfigureAwait(false);
        await db.SortedSetRemoveRangeByScoreAsync(Index, double.NegativeInfinity, (now - Retention).ToUnixTimeMilliseconds()).WaitAsync(timeout).ConfigureAwait(false);
        return request;
    }

    public async Task<Approval?> GetAsync(string id)
    {
        var value = await redis.GetDatabase().StringGetAsync(Key(id)).WaitAsync(timeout).ConfigureAwait(false);
        return value.HasValue ? JsonSerializer.Deserialize<Approval>(value.ToString(), Json)!.AsOf(time.GetUtcNow()) : null;
    }

    public async Task<IReadOnlyList<Approval>> AllAsync()
    {
        var db = redis.GetDatabase();
        var ids = await db.SortedSetRangeByRankAsync(Index).WaitAsync(timeout).ConfigureAwait(false);
        var list = new List<Approval>();
        foreach (var id in ids)
        {
            if (await GetAsync(id.ToString()).ConfigureAwait(false) is { } a)
                list.Add(a);
        }
        return list;
    }

    public async Task<bool?> DecideAsync(string id, bool approve, string by)
    {
        if (await GetAsync(id).ConfigureAwait(false) is not { } a)
            return null;
        if (a.Status != ApprovalStatus.Pending)
            return false;
        return await TransitionAsync(id, ApprovalStatus.Pending, a with
        {
            Status = approve ? ApprovalStatus.Approved : ApprovalStatus.Denied, DecidedAt = time.GetUtcNow(), DecidedBy = by,
        }).ConfigureAwait(false);
    }

    public async Task<bool> TryConsumeAsync(string id, string actionId)
    {
        if (await GetAsync(id).ConfigureAwait(false) is not { Status: ApprovalStatus.Approved } a)
            return false;
        return await TransitionAsync(id, ApprovalStatus.Approved, a with { Status = ApprovalStatus.Used, UsedByAction = actionId }).ConfigureAwait(false) == true;
    }

    public async Task RestoreAsync(string id, string actionId)
    {
        if (await GetAsync(id).ConfigureAwait(false) is { Status: ApprovalStatus.Used } a && a.UsedByAction == actionId)
            await TransitionAsync(id, ApprovalStatus.Used, a with { Status = ApprovalStatus.Approved, UsedByAction = null }).ConfigureAwait(false);
    }

    private async Task<bool?> TransitionAsync(string id, ApprovalStatus from, Approval next)
    {
        var result = (int)await redis.GetDatabase().ScriptEvaluateAsync(TransitionScript, [Key(id)],
            [from.ToString(), JsonSerializer.Serialize(next, Json)]).WaitAsync(timeout).ConfigureAwait(false);
        return result switch { -1 => null, 1 => true, _ => false };
    }
}
