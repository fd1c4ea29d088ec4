using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// Binds each <c>Mcp-Session-Id</c> to the agent session whose <c>initialize</c> created it, so a
/// session id seen (or guessed) by another agent session is worthless. With Redis configured the
/// bindings are shared (<c>SET NX</c>: the first binding wins on every replica), so replicas behind a
/// load balancer need no sticky sessions; each replica keeps the bindings it has seen in memory.
/// </summary>
public sealed class McpSessions(IConnectionMultiplexer? redis = null, string prefix = "agentperimeter", TimeSpan? timeout = null)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(1);
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(1);

    private RedisKey Key(string mcpSessionId) => $"{prefix}:{{mcp}}:{Actions.RequestFingerprint.Hash(mcpSessionId)}";

    /// <summary>Binds a new MCP session; an id already owned by another agent session is never rebound.</summary>
    public async Task<bool> TryBindAsync(string mcpSessionId, string agentSessionId)
    {
        if (redis is not null)
        {
            var db = redis.GetDatabase();
            if (!await db.StringSetAsync(Key(mcpSessionId), agentSessionId, Lifetime, When.NotExists).WaitAsync(_timeout).ConfigureAwait(false))
            {
                var owner = await db.StringGetAsync(Key(mcpSessionId)).WaitAsync(_timeout).ConfigureAwait(false);
                if (owner != agentSessionId)
                    return false;
            }
        }
        return _owners.GetOrAdd(mcpSessionId, agentSessionId) == agentSessionId;
    }

    private readonly ConcurrentDictionary<string, bool> _urlElicitation = new(StringComparer.Ordinal);

    /// <summary>Remembers that the client of an MCP session declared URL-mode elicitation at initialize (this replica's memory).</summary>
    public void RememberUrlElicitation(string mcpSessionId)
    {
        // Bounded: sessions that end without a DELETE are forgotten in bulk rather than kept forever (their
        // clients then get the approval id form, which works too).
        if (_urlElicitation.Count >= 100_000)
            _urlElicitation.Clear();
        _urlElicitation[mcpSessionId] = true;
    }

    /// <summary>Whether the client of an MCP session declared URL-mode elicitation (when its initialize passed this replica).</summary>
    public bool ElicitsUrl(string mcpSessionId) => _urlElicitation.ContainsKey(mcpSessionId);

    public void Unbind(string mcpSessionId)
    {
        _urlElicitation.TryRemove(mcpSessionId, out _);
        _owners.TryRemove(mcpSessionId, out _);
        if (redis is not null)
            _ = redis.GetDatabase().KeyDeleteAsync(Key(mcpSessionId), CommandFlags.FireAndForget);
    }

    /// <summary>Null when <paramref name="agentSessionId"/> owns the MCP session, else why not.</summary>
    public async ValueTask<(int Status, string Code, string Message)?> CheckAsync(string mcpSessionId, string agentSessionId)
    {
        if (!_owners.TryGetValue(mcpSessionId, out var owner) && redis is not null)
        {
            try
            {
                var shared = await redis.GetDatabase().StringGetAsync(Key(mcpSessionId)).WaitAsync(_timeout).ConfigureAwait(false);
                if (shared.HasValue)
                    owner = _owners.GetOrAdd(mcpSessionId, shared.ToString());
            }
            catch (Exception ex) when (ex is TimeoutException or RedisException)
            {
                return (503, RefusalCodes.McpSessionUnavailable, "The perimeter cannot check this MCP session right now; retry.");
            }
        }
        if (owner is null)
            return (404, RefusalCodes.McpSessionUnknown, "This MCP session is not known to the perimeter; start a new one with 'initialize'.");
        if (owner != agentSessionId)
            return (403, RefusalCodes.McpSessionNotOwned, "This MCP session belongs to another agent session.");
        return null;
    }
}
