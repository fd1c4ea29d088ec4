using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>Session tokens and the kill switch: mint, list, revoke a session or an agent.</summary>
internal static class SessionAdminEndpoints
{
    private static async Task<IResult> RevokeAsync(HttpContext context, OperatorRecords records, Identity.IRevocationStore revocations, string kind, string id)
    {
        try
        {
            await revocations.RevokeAsync(kind, id).WaitAsync(TimeSpan.FromSeconds(5));
            // The kill switch never waits on the log: the revocation is in force either way, and the answer says whether it is recorded.
            if (!await records.RecordAsync(context, "revoked", new("target_kind", kind), new("target", Actions.ActionResponses.Printable(id, 128))))
                return Results.Json(new { revoked = $"{kind}:{id}", recorded = false, error = Protocol.Refusals.RefusalCodes.AuditUnavailable,
                    message = "The revocation is in force on every replica, but the audit log could not record it." }, statusCode: 503);
            // Known: a session this gateway issued, or an agent it issued one to. An unknown id is revoked all the
            // same (an external issuer's session, another replica's, one issued later), and the answer says so.
            var issuer = context.RequestServices.GetRequiredService<Identity.SessionIssuer>();
            bool known = kind == "session" ? issuer.Sessions.Any(s => s.SessionId == id) || id.StartsWith("ext:", StringComparison.Ordinal)
                : issuer.Sessions.Any(s => s.AgentId == id);
            return Results.Json(new { revoked = $"{kind}:{id}", known });
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException or IOException)
        {
            // Not recorded anywhere shared: say so rather than pretend the kill switch worked.
            return Results.Json(new { error = RefusalCodes.RevocationStoreUnavailable, message = $"The revocation of {kind} '{id}' could not be stored ({ex.GetType().Name}); retry." }, statusCode: 503);
        }
    }

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/admin/sessions", async (HttpContext context, SessionRequest request, SessionIssuer issuer, Identity.IRevocationStore revocations, OperatorRecords records) =>
        {
            // A revoked session (or agent) gets no new token, not even to resume.
            if (request.Agent is { } agent && revocations.IsRevoked(request.SessionId ?? "", agent))
                return Results.Json(new { error = RefusalCodes.SessionRevoked, message = "This session or agent has been revoked; it cannot be given a new token." }, statusCode: 403);
            var result = issuer.Issue(request);
            if (result.Token is null)
                return Results.Json(new { error = result.Error, message = result.Message }, statusCode: result.Status);
            var s = result.Session!;
            // The token is the effect: it is handed out only once its record is durable.
            if (!await records.RecordAsync(context, "token_minted", new("session", s.SessionId), new("agent", s.AgentId), new("work_type", s.WorkType),
                new("expires_at", s.ExpiresAt.UtcDateTime.ToString("O"))))
                return OperatorRecords.Unrecorded("it did not hand out a session token");
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

        admin.MapPost("/admin/sessions/{id}/revoke", (HttpContext context, string id, Identity.IRevocationStore revocations, OperatorRecords records) => RevokeAsync(context, records, revocations, "session", id));
        admin.MapPost("/admin/agents/{id}/revoke", (HttpContext context, string id, Identity.IRevocationStore revocations, OperatorRecords records) => RevokeAsync(context, records, revocations, "agent", id));

        admin.MapGet("/admin/revocations", (Identity.IRevocationStore revocations) => Results.Json(revocations.All.Order()));
    }
}
