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

/// <summary>Session tokens and the kill switch: mint, list, revoke a session or an agent.</summary>
internal static class SessionAdminEndpoints
{
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

    public static void Map(RouteGroupBuilder admin)
    {
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

        admin.MapPost("/admin/sessions/{id}/revoke", (string id, Identity.IRevocationStore revocations) => RevokeAsync(revocations, "session", id));
        admin.MapPost("/admin/agents/{id}/revoke", (string id, Identity.IRevocationStore revocations) => RevokeAsync(revocations, "agent", id));

        admin.MapGet("/admin/revocations", (Identity.IRevocationStore revocations) => Results.Json(revocations.All.Order()));
    }
}
