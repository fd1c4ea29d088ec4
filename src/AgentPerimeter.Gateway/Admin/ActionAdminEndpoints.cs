using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>Actions in flight (intent recorded, outcome not yet) and the audit log's status.</summary>
internal static class ActionAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/admin/actions", (string? state, ActionRecorder recorder, TimeProvider time) =>
        {
            if (state is not (null or "in_flight"))
                return Results.Json(new { error = "invalid_request", message = "Use ?state=in_flight (the only state listed here; finished actions are in the audit log)." }, statusCode: 400);
            var now = time.GetUtcNow();
            return Results.Json(recorder.InFlight().Select(a => new
            {
                id = a.ActionId,
                agent = a.Agent,
                work_type = a.WorkType,
                route = a.Route,
                method = a.Method,
                target = a.Target,
                started_at = a.Started,
                age_ms = (long)(now - a.Started).TotalMilliseconds,
            }));
        });

        // The CA of inspected egress hosts (certificate only): what a sandbox must trust (perimeter ca export).
        admin.MapGet("/admin/egress/ca", (Egress.EgressCertificateAuthority authority) => Results.Text(authority.ExportPem(), "application/x-pem-file"));

        admin.MapGet("/admin/status", (AuditLog audit, AuditOptions options, PolicyStore policy) => Results.Json(new
        {
            policy_version = policy.Current.Version,
            audit = new
            {
                durability = options.Durability.ToString().ToLowerInvariant(),
                survives = options.Durability == AuditDurability.Fsync ? "process crash and power loss" : "process crash (a power loss may lose the last flush interval)",
                flush_interval_ms = options.Durability == AuditDurability.Write ? (long?)options.FlushInterval.TotalMilliseconds : null,
                file = audit.FilePath,
                files = audit.SeriesFiles().Count,
                max_file_bytes = options.MaxFileBytes,
                max_files = options.MaxFiles,
                checkpoints = options.CheckpointPath,
                healthy = audit.IsHealthy,
            },
        }));
    }
}
