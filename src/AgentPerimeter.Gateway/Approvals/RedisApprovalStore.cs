using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Approvals;

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
    private RedisKey PendingKey(Approval a) => PendingKey(a.AgentId, a.SessionId, a.Fingerprint);
    private RedisKey PendingKey(string agentId, string sessionId, string fingerprint) =>
        $"{prefix}:{{approvals}}:pending:{Actions.RequestFingerprint.Hash($"{agentId}|{sessionId}|{fingerprint}")}";
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

    /// <summary>The latest approval held for this exact call: the pointer CreateAsync keeps (one GET, not a scan of every approval).</summary>
    public async Task<Approval?> FindAsync(string sessionId, string agentId, string fingerprint)
    {
        var db = redis.GetDatabase();
        var id = await db.StringGetAsync(PendingKey(agentId, sessionId, fingerprint)).WaitAsync(timeout).ConfigureAwait(false);
        if (!id.HasValue || await GetAsync(id.ToString()).ConfigureAwait(false) is not { } approval)
            return null;
        return approval.SessionId == sessionId && approval.AgentId == agentId && approval.Fingerprint == fingerprint
            && approval.Status is ApprovalStatus.Pending or ApprovalStatus.Approved or ApprovalStatus.Denied ? approval : null;
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
