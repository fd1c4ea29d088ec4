using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using System.Security.Claims;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>Mints short-lived session tokens for a work type after checking the agent may use it.</summary>
public sealed class SessionIssuer(
    SigningKeys keys,
    IdentityOptions options,
    PolicyStore policy,
    PerimeterMetrics metrics,
    TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();
    private readonly ConcurrentDictionary<string, SessionInfo> _sessions = new(StringComparer.Ordinal);

    public const string AgentClaim = "sub";
    public const string SessionClaim = "sid";
    public const string WorkTypeClaim = "work_type";

    public IEnumerable<SessionInfo> Sessions
    {
        get
        {
            var now = time.GetUtcNow();
            foreach (var (id, s) in _sessions)
            {
                if (s.ExpiresAt < now)
                    _sessions.TryRemove(id, out _);
                else
                    yield return s;
            }
        }
    }

    /// <param name="audience">The token's <c>aud</c>: the perimeter's audience, or a resource URL (RFC 8707) the token is then bound to.</param>
    public SessionResult Issue(SessionRequest request, string? audience = null)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Agent) || request.Agent.Length > 128 || request.Agent.Any(char.IsControl))
            problems.Add("'agent' is required: a name of 1-128 printable characters");
        if (string.IsNullOrWhiteSpace(request.WorkType))
            problems.Add("'workType' is required");
        var lifetime = request.TtlSeconds is { } ttl ? TimeSpan.FromSeconds(ttl) : options.DefaultTokenLifetime;
        if (lifetime <= TimeSpan.Zero || lifetime > options.MaxTokenLifetime)
            problems.Add($"'ttlSeconds' must be between 1 and {(int)options.MaxTokenLifetime.TotalSeconds}");
        // A harness resuming a session after a crash asks for a new token of the same session (approvals
        // and MCP session bindings belong to it). Only one agent and work type may ever hold a session id.
        if (request.SessionId is { } resumed && !System.Text.RegularExpressions.Regex.IsMatch(resumed, @"^ses_[0-9a-f]{32}\z"))
            problems.Add("'sessionId' must be a session id issued by this gateway (ses_ and 32 hex digits)");
        else if (request.SessionId is { } known && _sessions.TryGetValue(known, out var earlier) && (earlier.AgentId != request.Agent || earlier.WorkType != request.WorkType))
            problems.Add($"session '{known}' belongs to another agent or work type");
        if (problems.Count > 0)
            return new SessionResult(null, null, 400, RefusalCodes.InvalidRequest, string.Join("; ", problems));

        var current = policy.Current;
        if (!current.WorkTypes.TryGetValue(request.WorkType!, out var workType))
            return new SessionResult(null, null, 400, RefusalCodes.UnknownWorkType,
                $"Work type '{request.WorkType}' is not configured. Configured: {string.Join(", ", current.WorkTypes.Keys.Order())}.");
        if (!workType.AgentMayUse(request.Agent!))
            return new SessionResult(null, null, 403, RefusalCodes.WorkTypeNotPermitted,
                $"Agent '{request.Agent}' may not start '{request.WorkType}' sessions.");

        var now = time.GetUtcNow();
        var session = new SessionInfo(request.SessionId ?? "ses_" + Guid.CreateVersion7().ToString("N"), request.Agent!, request.WorkType!, now, now + lifetime);
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = audience ?? options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = session.ExpiresAt.UtcDateTime,
            SigningCredentials = keys.Credentials,
            Subject = new ClaimsIdentity(
            [
                new Claim(AgentClaim, session.AgentId),
                new Claim(SessionClaim, session.SessionId),
                new Claim(WorkTypeClaim, session.WorkType),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
            ]),
        });
        _sessions[session.SessionId] = session;
        metrics.SessionIssued(session.WorkType);
        return new SessionResult(session, token, 201, null, null);
    }
}
