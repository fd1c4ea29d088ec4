using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Prometheus;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>
/// Endpoints of the admin listener only (see <see cref="ListenerMatcherPolicy"/>): health, metrics,
/// session tokens, the running policy and the public signing key.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>With <c>Gateway:Admin:TokenFile</c> set, /admin/* needs the operators' bearer token.</summary>
    private static async ValueTask<object?> AdminTokenFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var options = http.RequestServices.GetRequiredService<GatewayOptions>();
        if (options.Admin.TokenFile is not { } file)
            return await next(context);
        var expected = File.ReadAllText(options.ResolveDataPath(file)).Trim();
        http.RequestServices.GetRequiredService<SecretScrubber>().Remember("admin-token", expected);
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (!SecretCompare.FixedTimeEquals(presented, expected))
        {
            return Results.Json(new { error = RefusalCodes.AdminUnauthorized, message = "The admin API needs 'Authorization: Bearer <admin token>' (PERIMETER_ADMIN_TOKEN for the CLI)." }, statusCode: 401);
        }
        return await next(context);
    }

    private static async Task<IResult> RevokeAsync(Identity.IRevocationStore revocations, string kind, string id)
    {
        try
        {
            await revocations.RevokeAsync(kind, id).WaitAsync(TimeSpan.FromSeconds(5));
            return Results.Json(new { revoked = $"{kind}:{id}" });
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException or IOException)
        {
            // Not recorded anywhere shared: say so rather than pretend the kill switch worked.
            return Results.Json(new { error = RefusalCodes.RevocationStoreUnavailable, message = $"The revocation of {kind} '{id}' could not be stored ({ex.GetType().Name}); retry." }, statusCode: 503);
        }
    }

    private static object ApprovalJson(Approvals.Approval a) => new
    {
        id = a.Id,
        status = a.Status.ToString().ToLowerInvariant(),
        agent = a.AgentId,
        session = a.SessionId,
        work_type = a.WorkType,
        route = a.Route,
        rule = a.RuleId,
        what = a.What,
        arguments = a.Arguments,
        created_at = a.CreatedAt,
        expires_at = a.ExpiresAt,
        decided_at = a.DecidedAt,
        decided_by = a.DecidedBy,
        used_by_action = a.UsedByAction,
    };

    private static async Task<IResult> DecideApproval(string id, bool approve, HttpContext context, Approvals.IApprovalStore approvals)
    {
        var by = context.Request.Headers[AgentPerimeter.Protocol.PerimeterHeaders.Operator].ToString() is { Length: > 0 and <= 64 } name && !name.Any(char.IsControl) ? name : "operator";
        return await approvals.DecideAsync(id, approve, by) switch
        {
            null => Results.Json(new { error = RefusalCodes.UnknownApproval, message = $"No approval '{id}'." }, statusCode: 404),
            false => Results.Json(new { error = RefusalCodes.ApprovalNotPending, message = $"Approval '{id}' is {(await approvals.GetAsync(id))!.Status.ToString().ToLowerInvariant()}; only a pending approval can be decided." }, statusCode: 409),
            true => Results.Json(ApprovalJson((await approvals.GetAsync(id))!)),
        };
    }

    public static void MapAdminEndpoints(this WebApplication app)
    {
        var open = app.MapGroup("").WithMetadata(new ListenerMetadata(ListenerKind.Admin));
        var admin = app.MapGroup("").WithMetadata(new ListenerMetadata(ListenerKind.Admin));
        admin.AddEndpointFilter(AdminTokenFilter);

        open.MapGet("/healthz", () => Results.Text("ok\n"));

        open.MapGet("/readyz", (AuditLog audit, PolicyStore policy, RateLimiting.IRateLimitStore limits, Identity.IRevocationStore revocations) =>
        {
            bool auditOk = audit.EnsureWritable();
            var limitProblem = limits.Problem ?? revocations.Problem;
            bool ready = auditOk && limitProblem is null;
            var body = new
            {
                status = ready ? "ready" : "not_ready",
                audit = auditOk ? "writable" : "unwritable",
                ratelimit_store = limitProblem ?? "ok",
                policy_version = policy.Current.Version,
            };
            return Results.Json(body, statusCode: ready ? 200 : 503);
        });

        admin.MapPost("/admin/sessions/{id}/revoke", (string id, Identity.IRevocationStore revocations) => RevokeAsync(revocations, "session", id));
        admin.MapPost("/admin/agents/{id}/revoke", (string id, Identity.IRevocationStore revocations) => RevokeAsync(revocations, "agent", id));

        admin.MapGet("/admin/revocations", (Identity.IRevocationStore revocations) => Results.Json(revocations.All.Order()));

        open.MapGet("/metrics", async (HttpContext ctx, PerimeterMetrics metrics) =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(ctx.Response.Body, ctx.RequestAborted);
        });

        admin.MapPost("/admin/sessions", (SessionRequest request, SessionIssuer issuer, Identity.IRevocationStore revocations) =>
        {
            // A revoked session (or agent) gets no new token, not even to resume.
            if (request.Agent is { } agent && revocations.IsRevoked(request.SessionId ?? "", agent))
                return Results.Json(new { error = RefusalCodes.SessionRevoked, message = "This session or agent has been revoked; it cannot be given a new token." }, statusCode: 403);
            var result = issuer.Issue(request);
            if (result.Token is null)
                return Results.Json(new { error = result.Error, message = result.Message }, statusCode: result.Status);
            var s = result.Session!;
            return Results.Json(new
            {
                token = result.Token,
                session_id = s.SessionId,
                agent = s.AgentId,
                work_type = s.WorkType,
                expires_at = s.ExpiresAt,
            }, statusCode: 201);
        });

        admin.MapGet("/admin/sessions", (SessionIssuer issuer) => Results.Json(issuer.Sessions.Select(s => new
        {
            session_id = s.SessionId,
            agent = s.AgentId,
            work_type = s.WorkType,
            issued_at = s.IssuedAt,
            expires_at = s.ExpiresAt,
        })));

        admin.MapGet("/admin/policy", (PolicyStore store) =>
        {
            var p = store.Current;
            return Results.Json(new
            {
                version = p.Version,
                work_types = p.WorkTypes.Values.OrderBy(w => w.Name).Select(w => new
                {
                    name = w.Name,
                    description = w.Description,
                    agents = w.Agents.Select(a => a.Pattern),
                    rules = w.Rules.Select(r => new
                    {
                        id = r.Id,
                        route = r.Route,
                        methods = r.AnyMethod ? ["*"] : r.Methods.Order().ToArray(),
                        paths = r.Paths.Select(g => g.Pattern),
                        mode = r.Mode == RuleMode.Enforce ? "enforce" : "report",
                    }),
                }),
            });
        });

        admin.MapGet("/admin/secrets", (PolicyStore store, SecretStats stats) =>
        {
            var policy = store.Current;
            var catalog = policy.Section<SecretCatalog>();
            return Results.Json(catalog.Secrets.Values.OrderBy(s => s.Name).Select(s =>
            {
                var (count, last) = stats.For(s.Name);
                return new
                {
                    name = s.Name,
                    description = s.Description,
                    source = new { kind = s.Provider.Kind, location = s.Location },
                    available = s.Read().Value is not null,
                    bindings = s.Bindings.Select(b => new
                    {
                        route = b.Route,
                        inject = b.Describe(),
                        when_not_entitled = b.RefuseWhenNotEntitled ? "refuse" : "forward",
                    }),
                    work_types = policy.WorkTypes.Values.Where(w => catalog.EntitledFor(w.Name).Contains(s.Name)).Select(w => w.Name).Order(),
                    injections = count,
                    last_injected = last,
                };
            }));
        });

        admin.MapGet("/admin/tools", (ToolPins pins) => Results.Json(pins.All().Select(p => new
        {
            route = p.Route,
            tool = p.Tool,
            status = p.Withheld ? "withheld" : "approved",
            approved_hash = p.ApprovedHash,
            latest_hash = p.LatestHash,
            latest_description = p.LatestDescription,
            first_seen = p.FirstSeen,
            changed_at = p.ChangedAt,
        })));

        admin.MapPost("/admin/tools/{route}/{tool}/approve", (string route, string tool, ToolPins pins) =>
            pins.Approve(route, tool)
                ? Results.Json(new { route, tool, status = "approved" })
                : Results.Json(new { error = RefusalCodes.UnknownTool, message = $"Tool '{tool}' has not been seen on route '{route}'." }, statusCode: 404));

        admin.MapGet("/admin/approvals", async (Approvals.IApprovalStore approvals) => Results.Json((await approvals.AllAsync()).Select(ApprovalJson)));
        admin.MapGet("/admin/approvals/{id}", async (string id, Approvals.IApprovalStore approvals) =>
            await approvals.GetAsync(id) is { } a ? Results.Json(ApprovalJson(a)) : Results.Json(new { error = RefusalCodes.UnknownApproval, message = $"No approval '{id}'." }, statusCode: 404));
        admin.MapPost("/admin/approvals/{id}/approve", (string id, HttpContext ctx, Approvals.IApprovalStore approvals) => DecideApproval(id, true, ctx, approvals));
        admin.MapPost("/admin/approvals/{id}/deny", (string id, HttpContext ctx, Approvals.IApprovalStore approvals) => DecideApproval(id, false, ctx, approvals));

        admin.MapGet("/admin/tunnels", (Tunnels.TunnelRegistry tunnels) => Results.Json(tunnels.Pools.OrderBy(p => p.Name).Select(p => new
        {
            tunnel = p.Name,
            description = tunnels.Definition(p.Name)?.Description,
            credential = tunnels.Definition(p.Name) is { } d ? new { kind = d.Provider.Kind, location = d.Location } : null,
            connections = p.LiveConnections,
            connectors = p.Connectors.OrderBy(c => c.Key).Select(c => new { id = c.Key, connections = c.Value }),
        })));

        open.MapGet("/.well-known/jwks.json", (SigningKeys keys) => Results.Json(new { keys = new[] { keys.PublicJwk() } }));

        // Anything else on the admin listener is simply not there.
        app.MapFallback("{**path}", () => Results.NotFound()).WithMetadata(new ListenerMetadata(ListenerKind.Admin));
    }
}
