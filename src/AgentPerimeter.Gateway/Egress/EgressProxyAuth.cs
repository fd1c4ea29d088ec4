using System.Text;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// Who is asking the egress proxy: the session token in <c>Proxy-Authorization</c> — <c>Basic</c> with the
/// token as the password (so <c>HTTPS_PROXY=http://agent:TOKEN@gateway:PORT</c> works in curl, git, pip,
/// npm and .NET unchanged), or <c>Bearer</c>. The same validation, issuers, expiry and kill switch as the
/// agent listener; the token never goes further.
/// </summary>
internal sealed class EgressProxyAuth(IdentityResolver resolver, IRevocationStore revocations, PolicyStore policy, IServiceProvider services)
{
    public readonly record struct Result(AgentIdentity? Identity, PolicyDecision? Refusal);

    public async Task<Result> AuthenticateAsync(ProxyRequestHead head, ActionContext action)
    {
        var values = head.Headers.Where(h => string.Equals(h.Key, "Proxy-Authorization", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        if (values.Count == 0)
            return Refuse(RefusalCodes.MissingToken, "Send the session token as the proxy password: HTTPS_PROXY=http://AGENT:TOKEN@HOST:PORT (Proxy-Authorization: Basic), or 'Proxy-Authorization: Bearer TOKEN'.");
        if (values.Count > 1)
            return Refuse(RefusalCodes.InvalidToken, "Send exactly one Proxy-Authorization header.");
        if (TokenOf(values[0]) is not { Length: > 0 } token)
            return Refuse(RefusalCodes.InvalidToken, "Proxy-Authorization must be 'Basic base64(agent:TOKEN)' or 'Bearer TOKEN'.");

        // The JwtBearer handlers validate against a request: give them one carrying only the token.
        await using var scope = services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + token;
        var result = await resolver.ResolveAsync(context).ConfigureAwait(false);
        if (result.Identity is not { } identity)
            return Refuse(result.Error!, result.Message!);
        action.AgentId = identity.AgentId;
        action.SessionId = identity.SessionId;
        action.WorkType = identity.WorkType;
        action.Issuer = identity.Issuer;
        // A token bound to a resource of the agent listener (RFC 8707) is good there only, not as proxy credentials.
        if (identity.Resource is { } resource)
            return Refuse(RefusalCodes.InvalidAudience, $"This token was issued for the resource {resource}; the egress proxy takes session tokens for the whole perimeter.");
        if (revocations.IsRevoked(identity.SessionId, identity.AgentId))
            return Refuse(RefusalCodes.SessionRevoked, "This session has been revoked by the perimeter's operator.");
        if (!policy.Current.WorkTypes.ContainsKey(identity.WorkType))
            return new Result(null, new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.UnknownWorkType, null, $"Work type '{identity.WorkType}' is not configured on this perimeter."));
        return new Result(identity, null);
    }

    private static Result Refuse(string code, string message) =>
        new(null, new PolicyDecision(DecisionOutcome.Unauthenticated, code, null, message));

    private static string? TokenOf(string header)
    {
        int space = header.IndexOf(' ');
        if (space <= 0)
            return null;
        var scheme = header[..space];
        var value = header[(space + 1)..].Trim();
        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            return value;
        if (!scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value));
            int colon = decoded.IndexOf(':');
            if (colon < 0)
                return null;
            // The token is the password; a client that can only set a user name may send it there.
            var password = decoded[(colon + 1)..];
            return password.Length > 0 ? Uri.UnescapeDataString(password) : Uri.UnescapeDataString(decoded[..colon]);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
