namespace AgentPerimeter.Protocol.Refusals;

/// <summary>
/// The <c>error</c> codes the gateway answers with: in a refusal's HTTP body, in a JSON-RPC refusal's
/// <c>data</c>, in the <see cref="PerimeterHeaders.Error"/> header of a refused tunnel handshake, and in
/// the admin API's error bodies. Stable: harnesses and scripts branch on them.
/// </summary>
public static class RefusalCodes
{
    // Identity.

    /// <summary>No <c>Authorization: Bearer</c> header.</summary>
    public const string MissingToken = "missing_token";
    /// <summary>The bearer token is malformed, or names no agent, session and work type.</summary>
    public const string InvalidToken = "invalid_token";
    /// <summary>The session token has expired.</summary>
    public const string TokenExpired = "token_expired";
    /// <summary>The session token is not valid yet.</summary>
    public const string TokenNotYetValid = "token_not_yet_valid";
    /// <summary>The token was issued for another audience.</summary>
    public const string InvalidAudience = "invalid_audience";
    /// <summary>The token's issuer is not trusted.</summary>
    public const string InvalidIssuer = "invalid_issuer";
    /// <summary>The token's signature or algorithm is not accepted.</summary>
    public const string InvalidSignature = "invalid_signature";
    /// <summary>The session or its agent has been revoked (the kill switch).</summary>
    public const string SessionRevoked = "session_revoked";
    /// <summary>The token's work type is not configured on this perimeter.</summary>
    public const string UnknownWorkType = "unknown_work_type";

    // Policy and request checks.

    /// <summary>No enforcing rule of the work type allows the action.</summary>
    public const string PolicyDenied = "policy_denied";
    /// <summary>A rule allows the tool, but not with these arguments.</summary>
    public const string ArgumentNotAllowed = "argument_not_allowed";
    /// <summary>The MCP method is not allowed through the perimeter.</summary>
    public const string MethodNotAllowed = "method_not_allowed";
    /// <summary>An MCP resource URI is not in plain form.</summary>
    public const string ResourceNotCanonical = "resource_not_canonical";
    /// <summary>A pinned MCP tool's definition changed and waits for an operator's re-approval.</summary>
    public const string ToolDefinitionChanged = "tool_definition_changed";
    /// <summary>A task-augmented MCP request (MCP 2025-11-25 tasks): the perimeter does not offer tasks, so it is refused before it runs.</summary>
    public const string TaskNotSupported = "task_not_supported";
    /// <summary>MCP 2026-07-28: the mirrored headers (<c>Mcp-Method</c>, <c>Mcp-Name</c>) are missing or disagree with the body (JSON-RPC <c>-32020</c>).</summary>
    public const string HeaderMismatch = "header_mismatch";
    /// <summary>No route matches the request.</summary>
    public const string RouteNotFound = "route_not_found";
    /// <summary>Inbound termination: the host name is not one this perimeter serves.</summary>
    public const string UnknownHost = "unknown_host";
    /// <summary>The path is not in canonical form (encoded slashes, dot segments, ...).</summary>
    public const string PathNotCanonical = "path_not_canonical";
    /// <summary>The request body is framed ambiguously (Content-Length and Transfer-Encoding together, or a transfer coding other than chunked): the upstream might split it differently.</summary>
    public const string AmbiguousFraming = "ambiguous_framing";

    /// <summary>MCP 2026-07-28: an <c>Mcp-Param-*</c> header the deciding rule does not list in <c>ParamHeaders</c>.</summary>
    public const string ParamHeaderNotAllowed = "param_header_not_allowed";
    /// <summary>A protocol upgrade (WebSocket, h2c) was asked for on a proxied route.</summary>
    public const string UpgradeNotAllowed = "upgrade_not_allowed";
    /// <summary>The request body is larger than the agent listener accepts.</summary>
    public const string BodyTooLarge = "body_too_large";
    /// <summary>An MCP message was not sent as <c>application/json</c>.</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";
    /// <summary>An MCP message is not JSON.</summary>
    public const string InvalidJson = "invalid_json";
    /// <summary>An MCP message is not a valid JSON-RPC message.</summary>
    public const string InvalidJsonRpc = "invalid_jsonrpc";
    /// <summary>A JSON-RPC batch was sent; the perimeter checks one message at a time.</summary>
    public const string BatchNotSupported = "batch_not_supported";
    /// <summary>An MCP request's params could not be checked.</summary>
    public const string InvalidParams = "invalid_params";
    /// <summary>An MCP message repeats a JSON key.</summary>
    public const string DuplicateKey = "duplicate_key";
    /// <summary>The <c>Mcp-Session-Id</c> is not known to the perimeter.</summary>
    public const string McpSessionUnknown = "mcp_session_unknown";
    /// <summary>The <c>Mcp-Session-Id</c> belongs to another agent session.</summary>
    public const string McpSessionNotOwned = "mcp_session_not_owned";
    /// <summary>The perimeter cannot check the MCP session right now.</summary>
    public const string McpSessionUnavailable = "mcp_session_unavailable";
    /// <summary>The harness's report of an external action is malformed.</summary>
    public const string InvalidReport = "invalid_report";

    // Rate limits.

    /// <summary>Over a rate limit of the work type (<c>retry_after_ms</c> says when to retry).</summary>
    public const string RateLimited = "rate_limited";
    /// <summary>The rate-limit store is unreachable and the work type fails closed.</summary>
    public const string RateLimitUnavailable = "ratelimit_unavailable";

    // Approvals.

    /// <summary>The action needs a human's approval; <c>approval_id</c> names the pending approval.</summary>
    public const string ApprovalRequired = "approval_required";
    /// <summary>The presented approval is still pending.</summary>
    public const string ApprovalPending = "approval_pending";
    /// <summary>The presented approval does not exist.</summary>
    public const string ApprovalUnknown = "approval_unknown";
    /// <summary>The presented approval was given for another call or session.</summary>
    public const string ApprovalMismatch = "approval_mismatch";
    /// <summary>An operator denied the call.</summary>
    public const string ApprovalDenied = "approval_denied";
    /// <summary>The approval expired before it was used.</summary>
    public const string ApprovalExpired = "approval_expired";
    /// <summary>The approval was already used (each allows one call).</summary>
    public const string ApprovalUsed = "approval_used";
    /// <summary>The call is too large to show a human in full.</summary>
    public const string ApprovalTooLarge = "approval_too_large";
    /// <summary>The approvals store cannot be read right now.</summary>
    public const string ApprovalUnavailable = "approval_unavailable";

    // Idempotency.

    /// <summary>The idempotency key is malformed.</summary>
    public const string InvalidIdempotencyKey = "invalid_idempotency_key";
    /// <summary>The idempotency key was used before for a different action.</summary>
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    /// <summary>The action with this key is still running.</summary>
    public const string IdempotencyInProgress = "idempotency_in_progress";
    /// <summary>The idempotency store is unreachable.</summary>
    public const string IdempotencyUnavailable = "idempotency_unavailable";
    /// <summary>The first action with this key did not finish with an outcome the gateway saw; it may or may not have happened.</summary>
    public const string IdempotencyOutcomeUnknown = "idempotency_outcome_unknown";

    // Secrets, upstreams, tunnels and the gateway itself.

    /// <summary>The route needs a secret the work type is not entitled to.</summary>
    public const string SecretNotEntitled = "secret_not_entitled";
    /// <summary>A secret the route needs cannot be read right now.</summary>
    public const string SecretUnavailable = "secret_unavailable";
    /// <summary>The upstream could not be reached.</summary>
    public const string UpstreamUnavailable = "upstream_unavailable";
    /// <summary>The upstream did not answer in time.</summary>
    public const string UpstreamTimeout = "upstream_timeout";
    /// <summary>The request body could not be read completely.</summary>
    public const string RequestBodyError = "request_body_error";
    /// <summary>The upstream's answer could not be inspected (e.g. for secrets) and was withheld.</summary>
    public const string UpstreamResponseNotInspectable = "upstream_response_not_inspectable";
    /// <summary>The route is served through a tunnel with no connector connected.</summary>
    public const string TunnelUnavailable = "tunnel_unavailable";
    /// <summary>The audit log cannot be written: the gateway does not act unrecorded.</summary>
    public const string AuditUnavailable = "audit_unavailable";
    /// <summary>An unexpected error inside the gateway.</summary>
    public const string GatewayError = "gateway_error";
    /// <summary>The route's cluster is missing or has no destination: the route cannot forward.</summary>
    public const string RouteUnavailable = "route_unavailable";
    /// <summary>The request names a host the perimeter does not serve (<c>Gateway:AllowedHosts</c>).</summary>
    public const string HostNotAllowed = "host_not_allowed";
    /// <summary>The request comes from a web page whose origin is not listed (<c>Gateway:AllowedOrigins</c>): the DNS-rebinding defence.</summary>
    public const string OriginNotAllowed = "origin_not_allowed";
    /// <summary>Egress: no egress rule of the work type allows this host, port, method or path.</summary>
    public const string EgressDenied = "egress_denied";
    /// <summary>Egress: the destination resolves only to addresses the perimeter refuses (loopback, private, link-local, metadata, …) and no rule allows that range.</summary>
    public const string AddressNotAllowed = "address_not_allowed";
    /// <summary>Egress: the host name does not resolve.</summary>
    public const string ResolveFailed = "resolve_failed";
    /// <summary>Egress: the destination refused or did not accept the connection in time.</summary>
    public const string ConnectFailed = "connect_failed";
    /// <summary>Egress: the TLS server name the client sent is not the host it asked the proxy for (domain fronting).</summary>
    public const string SniMismatch = "sni_mismatch";
    /// <summary>Egress: a tunnel whose rule expects TLS carried something else.</summary>
    public const string NotTls = "not_tls";
    /// <summary>Egress: the proxy request could not be read (malformed, too large, not absolute-form or CONNECT).</summary>
    public const string BadProxyRequest = "bad_proxy_request";
    /// <summary>Egress: the session's open tunnels were closed because it was revoked.</summary>
    public const string TunnelRevoked = "tunnel_revoked";
    /// <summary>A restart found the action in flight with no outcome: whether the upstream acted is unknown.</summary>
    public const string OutcomeUnknown = "outcome_unknown";

    // Tunnel handshake (also in the X-Perimeter-Error header).

    /// <summary>The gateway serves no tunnel of that name.</summary>
    public const string UnknownTunnel = "unknown_tunnel";
    /// <summary>No connector credential was presented.</summary>
    public const string MissingCredential = "missing_credential";
    /// <summary>The connector credential is wrong.</summary>
    public const string BadCredential = "bad_credential";
    /// <summary>The credential belongs to another tunnel.</summary>
    public const string NotEntitled = "not_entitled";
    /// <summary>The gateway cannot read the tunnel's credential right now.</summary>
    public const string CredentialUnavailable = "credential_unavailable";
    /// <summary>The tunnel already holds its maximum number of connections.</summary>
    public const string TooManyConnections = "too_many_connections";
    /// <summary>The handshake was not a WebSocket upgrade.</summary>
    public const string WebSocketRequired = "websocket_required";

    // Admin API.

    /// <summary>The admin API needs the operators' bearer token.</summary>
    public const string AdminUnauthorized = "admin_unauthorized";
    /// <summary>A session request is malformed.</summary>
    public const string InvalidRequest = "invalid_request";
    /// <summary>The agent may not start sessions of that work type.</summary>
    public const string WorkTypeNotPermitted = "work_type_not_permitted";
    /// <summary>A revocation could not be stored.</summary>
    public const string RevocationStoreUnavailable = "revocation_store_unavailable";
    /// <summary>No approval of that id (admin API).</summary>
    public const string UnknownApproval = "unknown_approval";
    /// <summary>The approval was already decided (admin API).</summary>
    public const string ApprovalNotPending = "approval_not_pending";
    /// <summary>The tool has not been seen on the route (admin API).</summary>
    public const string UnknownTool = "unknown_tool";
}
