using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>
/// Turns a bearer token into an <see cref="AgentIdentity"/>. Validation is JwtBearer's (one scheme per
/// issuer, so a key only vouches for its own issuer); the result is cached by the whole token until
/// its expiry, as Envoy's jwt_authn does, so a token costs one validation per lifetime.
/// </summary>
public sealed class IdentityResolver
{
    public const string OwnScheme = "perimeter";
    public const string ExternalScheme = "external";
    private const int MaxCacheEntries = 50_000;

    private readonly ConcurrentDictionary<string, AgentIdentity> _cache = new(StringComparer.Ordinal);
    private readonly IdentityOptions _options;
    private readonly TimeProvider _time;
    private readonly string? _externalIssuer;

    public IdentityResolver(IdentityOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _externalIssuer = options.External is { } ext ? ext.Issuer ?? ext.Authority : null;
    }

    public async ValueTask<IdentityResult> ResolveAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        if (header.Count == 0)
            return IdentityResult.Fail(RefusalCodes.MissingToken, "Send 'Authorization: Bearer <session token>'. Ask the perimeter operator for a session token.");
        if (header.Count > 1)
            return IdentityResult.Fail(RefusalCodes.InvalidToken, "Send exactly one Authorization header.");
        var value = header[0];
        if (value is null || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || value.Length <= 7)
            return IdentityResult.Fail(RefusalCodes.InvalidToken, "The Authorization header must be 'Bearer <token>'.");
        var token = value[7..].Trim();

        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(token, out var cached))
        {
            if (now < cached.ExpiresAt + _options.ClockSkew)
                return new IdentityResult(cached, null, null);
            _cache.TryRemove(token, out _);
            return IdentityResult.Fail(RefusalCodes.TokenExpired, "The session token has expired; start a new session.");
        }

        string? issuer;
        try
        {
            issuer = new JsonWebToken(token).Issuer;
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return IdentityResult.Fail(RefusalCodes.InvalidToken, "The bearer token is not a well-formed JWT.");
        }

        string scheme;
        if (issuer == _options.Issuer)
            scheme = OwnScheme;
        else if (_externalIssuer is not null && issuer == _externalIssuer)
            scheme = ExternalScheme;
        else
            return IdentityResult.Fail(RefusalCodes.InvalidIssuer, "The token's issuer is not trusted by this perimeter.");

        var result = await context.AuthenticateAsync(scheme).ConfigureAwait(false);
        if (!result.Succeeded)
            return Describe(result.Failure);

        var ext = _options.External;
        var principal = result.Principal!;
        bool own = scheme == OwnScheme;
        // A claim given as a list (e.g. "work_type": ["production", "exploration"]) is not one identity: refuse it.
        foreach (var type in own ? [SessionIssuer.AgentClaim, SessionIssuer.SessionClaim, SessionIssuer.WorkTypeClaim] : new[] { ext!.AgentClaim, ext.SessionClaim, ext.WorkTypeClaim })
        {
            if (principal.FindAll(type).Skip(1).Any())
                return IdentityResult.Fail(RefusalCodes.InvalidToken, "The token's agent, session and work type must each be a single string.");
        }
        var agent = principal.FindFirst(own ? SessionIssuer.AgentClaim : ext!.AgentClaim)?.Value;
        var session = principal.FindFirst(own ? SessionIssuer.SessionClaim : ext!.SessionClaim)?.Value;
        var workType = principal.FindFirst(own ? SessionIssuer.WorkTypeClaim : ext!.WorkTypeClaim)?.Value;
        if (string.IsNullOrEmpty(agent) || string.IsNullOrEmpty(session) || string.IsNullOrEmpty(workType))
            return IdentityResult.Fail(RefusalCodes.InvalidToken, "The token does not name an agent, a session and a work type.");

        if (!own)
            session = ScopeExternalSession(agent, session);

        var expires = result.Properties?.ExpiresUtc ?? now;
        string? resource = null;
        if (own && principal.FindFirst("aud")?.Value is { } aud && aud != _options.Audience && IsResourceAudience(aud))
            resource = aud;
        var identity = new AgentIdentity(agent, session, workType, issuer!, expires, resource);
        if (_cache.Count >= MaxCacheEntries)
            Prune(now);
        _cache[token] = identity;
        return new IdentityResult(identity, null, null);
    }

    /// <summary>An audience that names a resource (an absolute http or https URL) rather than the perimeter's audience string.</summary>
    public static bool IsResourceAudience(string audience) =>
        (audience.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || audience.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        && Uri.TryCreate(audience, UriKind.Absolute, out _);

    /// <summary>
    /// An external token's session id as the gateway keys it: <c>ext:{agent}:{sid}</c> (each part
    /// percent-escaped, so no two pairs give one key). Everything keyed by session — MCP session
    /// bindings, rate-limit partitions, revocations, approvals, idempotency keys — is then scoped to
    /// the issuer and the agent: an external token that carries another session's id (one of the
    /// gateway's own <c>ses_…</c> ids, or another agent's) reaches nothing of that session.
    /// </summary>
    public static string ScopeExternalSession(string agent, string session) =>
        $"ext:{Uri.EscapeDataString(agent)}:{Uri.EscapeDataString(session)}";

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, entry) in _cache)
        {
            if (now >= entry.ExpiresAt + _options.ClockSkew)
                _cache.TryRemove(key, out _);
        }
        // Still full of live tokens (a flood of distinct valid tokens): start over rather than grow.
        if (_cache.Count >= MaxCacheEntries)
            _cache.Clear();
    }

    private static IdentityResult Describe(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => IdentityResult.Fail(RefusalCodes.TokenExpired, "The session token has expired; start a new session."),
        SecurityTokenNotYetValidException => IdentityResult.Fail(RefusalCodes.TokenNotYetValid, "The session token is not valid yet."),
        SecurityTokenInvalidAudienceException => IdentityResult.Fail(RefusalCodes.InvalidAudience, "The token was not issued for this perimeter."),
        SecurityTokenInvalidIssuerException => IdentityResult.Fail(RefusalCodes.InvalidIssuer, "The token's issuer is not trusted by this perimeter."),
        SecurityTokenInvalidAlgorithmException => IdentityResult.Fail(RefusalCodes.InvalidSignature, "The token's signing algorithm is not accepted."),
        SecurityTokenSignatureKeyNotFoundException
            => IdentityResult.Fail(RefusalCodes.InvalidSignature, "The token is signed by a key this gateway does not know. Replicas of one perimeter must share Gateway:Identity:SigningKeyPath (and list keys being rotated in Gateway:Identity:VerificationKeyPaths)."),
        SecurityTokenInvalidSignatureException
            => IdentityResult.Fail(RefusalCodes.InvalidSignature, "The token's signature does not verify."),
        _ => IdentityResult.Fail(RefusalCodes.InvalidToken, "The bearer token is not valid."),
    };
}
