using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Policy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.OAuth;

/// <summary>
/// The gateway's OAuth endpoints on the agent listener, answered before the identity stage (they are
/// how a client gets a token) and audited like every action:
/// <list type="bullet">
/// <item><c>GET /.well-known/oauth-protected-resource[/path]</c>: Protected Resource Metadata (RFC 9728),
/// naming the authorization servers — the gateway's own when clients are registered, and the external
/// issuer when configured. Every 401 points here (<c>WWW-Authenticate: Bearer resource_metadata=…</c>).</item>
/// <item><c>GET /.well-known/oauth-authorization-server</c>: Authorization Server Metadata (RFC 8414).</item>
/// <item><c>POST /.perimeter/oauth/token</c>: the <c>client_credentials</c> grant (OAuth 2.1) for registered
/// machine clients, authenticated by <c>client_secret_basic</c>, <c>client_secret_post</c> or
/// <c>private_key_jwt</c> (RFC 7523); scope <c>work_type:NAME</c>; the token's audience is the
/// requested <c>resource</c> (RFC 8707).</item>
/// </list>
/// </summary>
internal sealed class OAuthEndpointsMiddleware(
    RequestDelegate next,
    OAuthOptions options,
    FrozenDictionary<string, OAuthClient> clients,
    IdentityOptions identity,
    SessionIssuer issuer,
    PolicyStore policy,
    IRevocationStore revocations,
    AssertionReplay replay,
    TimeProvider time)
{
    public const string ProtectedResourcePath = "/.well-known/oauth-protected-resource";
    public const string AuthorizationServerPath = "/.well-known/oauth-authorization-server";
    public const string TokenPath = "/.perimeter/oauth/token";
    public const string AuthorizePath = "/.perimeter/oauth/authorize";
    private const string JwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private const string ScopePrefix = "work_type:";


    public Task InvokeAsync(HttpContext context)
    {
        // The raw target, so a path the path guard would refuse ("/a/%2e%2e/b") is never taken for one of these.
        var path = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        if (path.IndexOf('?') is var query and >= 0)
            path = path[..query];
        if (!path.StartsWith("/.", StringComparison.Ordinal) || PathGuardMiddleware.Check(path) is not null)
            return next(context);
        if (path.StartsWith(ProtectedResourcePath, StringComparison.Ordinal)
            && (path.Length == ProtectedResourcePath.Length || path[ProtectedResourcePath.Length] == '/'))
            return ProtectedResourceAsync(context, path[ProtectedResourcePath.Length..]);
        if (path == AuthorizationServerPath && clients.Count > 0)
            return AuthorizationServerAsync(context);
        if (path == TokenPath && clients.Count > 0)
            return TokenAsync(context);
        if (path == AuthorizePath && clients.Count > 0)
        {
            context.GetAction().RouteId = "perimeter-oauth";
            return ErrorAsync(context, 400, "unsupported_response_type",
                "This authorization server serves machine clients only (the client_credentials grant at the token endpoint); there is no interactive authorization.");
        }
        return next(context);
    }

    private string BaseUrl(HttpContext context) =>
        options.PublicUrl is { Length: > 0 } url ? url.TrimEnd('/') : $"{context.Request.Scheme}://{context.Request.Host}";

    private Task ProtectedResourceAsync(HttpContext context, string suffix)
    {
        var action = context.GetAction();
        action.RouteId = "perimeter-oauth";
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            return ActionResponses.RefuseAsync(context, StatusCodes.Status405MethodNotAllowed,
                new PolicyDecision(DecisionOutcome.BadRequest, AgentPerimeter.Protocol.Refusals.RefusalCodes.MethodNotAllowed, null, "Protected resource metadata is read with GET."));
        var baseUrl = BaseUrl(context);
        var servers = new List<string>(2);
        if (clients.Count > 0)
            servers.Add(baseUrl);
        if (identity.External is { } ext && (ext.Issuer ?? ext.Authority) is { } external)
            servers.Add(external);
        action.Decide(new PolicyDecision(DecisionOutcome.Allow, "oauth_metadata", null, null));
        return WriteJsonAsync(context, 200, w =>
        {
            w.WriteString("resource", baseUrl + suffix);
            w.WriteStartArray("authorization_servers");
            foreach (var s in servers)
                w.WriteStringValue(s);
            w.WriteEndArray();
            w.WriteStartArray("bearer_methods_supported");
            w.WriteStringValue("header");
            w.WriteEndArray();
            WriteScopes(w);
            w.WriteString("resource_name", "AgentPerimeter");
        });
    }

    private Task AuthorizationServerAsync(HttpContext context)
    {
        var action = context.GetAction();
        action.RouteId = "perimeter-oauth";
        action.Decide(new PolicyDecision(DecisionOutcome.Allow, "oauth_metadata", null, null));
        var baseUrl = BaseUrl(context);
        return WriteJsonAsync(context, 200, w =>
        {
            w.WriteString("issuer", baseUrl);
            // Required by RFC 8414 (and SDK schemas) whenever grants could use it; it answers unsupported_response_type.
            w.WriteString("authorization_endpoint", baseUrl + AuthorizePath);
            w.WriteString("token_endpoint", baseUrl + TokenPath);
            w.WriteStartArray("grant_types_supported");
            w.WriteStringValue("client_credentials");
            w.WriteEndArray();
            w.WriteStartArray("token_endpoint_auth_methods_supported");
            w.WriteStringValue("client_secret_basic");
            w.WriteStringValue("client_secret_post");
            w.WriteStringValue("private_key_jwt");
            w.WriteEndArray();
            w.WriteStartArray("token_endpoint_auth_signing_alg_values_supported");
            foreach (var alg in AssertionAlgorithms)
                w.WriteStringValue(alg);
            w.WriteEndArray();
            w.WriteStartArray("response_types_supported");
            w.WriteEndArray();
            WriteScopes(w);
        });
    }

    private void WriteScopes(Utf8JsonWriter w)
    {
        w.WriteStartArray("scopes_supported");
        foreach (var workType in policy.Current.WorkTypes.Keys.Order(StringComparer.Ordinal))
            w.WriteStringValue(ScopePrefix + workType);
        w.WriteEndArray();
    }

    private static readonly string[] AssertionAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.RsaSsaPssSha256,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384,
    ];

    private async Task TokenAsync(HttpContext context)
    {
        var action = context.GetAction();
        action.RouteId = "perimeter-oauth";
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            await ErrorAsync(context, 405, "invalid_request", "The token endpoint takes POST.").ConfigureAwait(false);
            return;
        }
        if (!request.HasFormContentType)
        {
            await ErrorAsync(context, 400, "invalid_request", "Send the token request as application/x-www-form-urlencoded.").ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = 64 * 1024;
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BadHttpRequestException or InvalidDataException or IOException)
        {
            await ErrorAsync(context, 400, "invalid_request", "The token request could not be read (at most 64 KiB of form fields).").ConfigureAwait(false);
            return;
        }
        // RFC 6749 section 3.2: parameters are sent once.
        if (form.Any(kv => kv.Value.Count > 1))
        {
            await ErrorAsync(context, 400, "invalid_request", "A parameter is repeated; send each once.").ConfigureAwait(false);
            return;
        }

        OAuthClient? client;
        bool ambiguous, basic;
        try
        {
            (client, ambiguous, basic) = await AuthenticateAsync(context, form).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
        {
            // Single use of an assertion cannot be checked: no token rather than a possible replay.
            context.Response.Headers.RetryAfter = "1";
            await ErrorAsync(context, 503, "temporarily_unavailable", "The perimeter cannot check client assertions right now; retry shortly.").ConfigureAwait(false);
            return;
        }
        if (client is null)
        {
            if (basic)
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"agentperimeter\", charset=\"UTF-8\"";
            if (ambiguous)
                await ErrorAsync(context, 400, "invalid_request", "Authenticate the client one way only: HTTP Basic, client_secret in the body, or a client_assertion.").ConfigureAwait(false);
            else
                await ErrorAsync(context, 401, "invalid_client", BadCredentials).ConfigureAwait(false);
            return;
        }
        action.AgentId = client.Agent;
        if (client.Disabled || revocations.IsRevoked("", client.Agent))
        {
            await ErrorAsync(context, 401, "invalid_client", "This client may not obtain tokens (disabled, or its agent revoked by the perimeter's operator).").ConfigureAwait(false);
            return;
        }
        if (form["grant_type"].ToString() != "client_credentials")
        {
            await ErrorAsync(context, 400, "unsupported_grant_type", "This authorization server issues tokens for the client_credentials grant only.").ConfigureAwait(false);
            return;
        }

        // Scope: exactly one work type the client is registered for (its first when none is asked).
        var scopes = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? workType = scopes.Length == 0 ? client.WorkTypes[0] : null;
        if (scopes.Length == 1 && scopes[0].StartsWith(ScopePrefix, StringComparison.Ordinal))
            workType = scopes[0][ScopePrefix.Length..];
        if (workType is null || !client.WorkTypes.Contains(workType, StringComparer.Ordinal))
        {
            await ErrorAsync(context, 400, "invalid_scope",
                $"Ask for one work type this client is registered for, as scope {string.Join(" or ", client.WorkTypes.Select(w => ScopePrefix + w))}.").ConfigureAwait(false);
            return;
        }
        action.WorkType = workType;

        // Resource (RFC 8707): the token is bound to it, so it is refused anywhere else.
        var baseUrl = BaseUrl(context);
        string audience = identity.Audience;
        if (form["resource"].ToString() is { Length: > 0 } resource)
        {
            if (!IsResourceOf(resource, baseUrl))
            {
                    await ErrorAsync(context, 400, "invalid_target", $"The resource must be this perimeter ({baseUrl}) or a path under it, without query or fragment.").ConfigureAwait(false);
                return;
            }
            audience = resource;
        }

        var lifetime = options.TokenLifetime <= identity.MaxTokenLifetime ? options.TokenLifetime : identity.MaxTokenLifetime;
        var issued = issuer.Issue(new SessionRequest(client.Agent, workType, (int)lifetime.TotalSeconds), audience);
        if (issued.Token is null)
        {
            await ErrorAsync(context, 400, "invalid_scope", issued.Message ?? "This work type cannot be granted.").ConfigureAwait(false);
            return;
        }
        action.SessionId = issued.Session!.SessionId;
        action.Decide(new PolicyDecision(DecisionOutcome.Allow, "token_issued", null, $"client '{client.Id}'"));
        context.Response.Headers.Pragma = "no-cache";
        await WriteJsonAsync(context, 200, w =>
        {
            w.WriteString("access_token", issued.Token);
            w.WriteString("token_type", "Bearer");
            w.WriteNumber("expires_in", (long)(issued.Session.ExpiresAt - time.GetUtcNow()).TotalSeconds);
            w.WriteString("scope", ScopePrefix + workType);
        }).ConfigureAwait(false);
    }

    private const string BadCredentials = "Client authentication failed (no credentials, an unknown client, a wrong secret, or an assertion that does not verify or was used before).";

    /// <summary>The client, or null; whether more than one method was used; whether HTTP Basic was (the 401 then names that scheme).</summary>
    private async Task<(OAuthClient? Client, bool Ambiguous, bool Basic)> AuthenticateAsync(HttpContext context, IFormCollection form)
    {
        var header = context.Request.Headers.Authorization.ToString();
        bool basic = header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase);
        bool post = form.ContainsKey("client_secret");
        bool assertion = form.ContainsKey("client_assertion") || form.ContainsKey("client_assertion_type");
        if ((basic ? 1 : 0) + (post ? 1 : 0) + (assertion ? 1 : 0) != 1)
            return (null, basic || post || assertion, basic);

        if (basic)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            }
            catch (FormatException)
            {
                return (null, false, true);
            }
            int colon = decoded.IndexOf(':');
            if (colon <= 0)
                return (null, false, true);
            // RFC 6749 section 2.3.1: id and secret are form-url-encoded before Basic encoding.
            var id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
            var secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
            if (form["client_id"].ToString() is { Length: > 0 } bodyId && bodyId != id)
                return (null, false, true);
            return (CheckSecret(id, secret), false, true);
        }
        if (post)
            return (CheckSecret(form["client_id"].ToString(), form["client_secret"].ToString()), false, false);
        return (await CheckAssertionAsync(context, form).ConfigureAwait(false), false, false);
    }

    private OAuthClient? CheckSecret(string id, string secret)
    {
        if (!clients.TryGetValue(id, out var client) || client.SecretProvider is null || secret.Length == 0)
        {
            Secrets.SecretCompare.FixedTimeEquals(secret, "no client has this secret"); // same work either way
            return null;
        }
        var expected = client.SecretProvider.Read(client.SecretLocation!).Value;
        return expected is not null && Secrets.SecretCompare.FixedTimeEquals(secret, expected) ? client : null;
    }

    private async Task<OAuthClient?> CheckAssertionAsync(HttpContext context, IFormCollection form)
    {
        if (form["client_assertion_type"].ToString() != JwtBearerAssertion || form["client_assertion"].ToString() is not { Length: > 0 and < 8192 } assertion)
            return null;
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(assertion);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return null;
        }
        var id = jwt.Issuer;
        if (string.IsNullOrEmpty(id) || !clients.TryGetValue(id, out var client) || client.PublicKey is null)
            return null;
        if (form["client_id"].ToString() is { Length: > 0 } bodyId && bodyId != id)
            return null;
        var baseUrl = BaseUrl(context);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = id,
            ValidAudiences = [baseUrl, baseUrl + "/", baseUrl + TokenPath],
            IssuerSigningKey = client.PublicKey,
            ValidAlgorithms = AssertionAlgorithms,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = identity.ClockSkew,
        }).ConfigureAwait(false);
        if (!result.IsValid || jwt.Subject != id || jwt.ValidTo - time.GetUtcNow().UtcDateTime > TimeSpan.FromMinutes(10))
            return null;

        // Single use (RFC 7523 section 3): a replayed assertion gets nothing, on any replica.
        var jti = jwt.Id;
        if (string.IsNullOrEmpty(jti) || !await replay.TryUseAsync(id, jti, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + identity.ClockSkew).ConfigureAwait(false))
            return null;
        return client;
    }

    /// <summary>
    /// Which URL audiences the identity stage accepts as this perimeter's resources: under the public URL when
    /// one is configured, else on one of <c>Gateway:AllowedHosts</c> (the configuration requires one or the other
    /// when clients are registered); none when neither is set (no resource-bound token was ever issued).
    /// </summary>
    public static Func<string, bool>? OwnResource(string? publicUrl, IReadOnlyCollection<string> allowedHosts)
    {
        if (publicUrl is { Length: > 0 })
        {
            var baseUrl = publicUrl.TrimEnd('/');
            return aud => IsResourceOf(aud, baseUrl);
        }
        if (allowedHosts.Count == 0)
            return null;
        var hosts = allowedHosts.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return aud => Uri.TryCreate(aud, UriKind.Absolute, out var uri) && hosts.Contains(uri.Host)
            && IsResourceOf(aud, uri.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>Whether <paramref name="resource"/> is the perimeter itself or a canonical path under it.</summary>
    internal static bool IsResourceOf(string resource, string baseUrl)
    {
        if (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0 || uri.Query.Length > 0 || resource.Contains('#') || resource.Contains('?'))
            return false;
        if (string.Equals(resource, baseUrl, StringComparison.OrdinalIgnoreCase) || string.Equals(resource, baseUrl + "/", StringComparison.OrdinalIgnoreCase))
            return true;
        return resource.StartsWith(baseUrl + "/", StringComparison.OrdinalIgnoreCase) && PathGuardMiddleware.Check(resource[baseUrl.Length..]) is null;
    }

    private static Task ErrorAsync(HttpContext context, int status, string error, string description)
    {
        var action = context.GetAction();
        if (action.Decision.Outcome == DecisionOutcome.Pending)
        {
            var outcome = status == 401 ? DecisionOutcome.Unauthenticated : error == "invalid_scope" ? DecisionOutcome.Deny : DecisionOutcome.BadRequest;
            action.Decide(new PolicyDecision(outcome, "oauth_" + error, null, description));
        }
        return WriteJsonAsync(context, status, w =>
        {
            w.WriteString("error", error);
            w.WriteString("error_description", description);
        });
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.Headers[ActionResponses.ActionIdHeader] = context.GetAction().ActionId;
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
