using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Prometheus;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>Open endpoints of the admin listener: liveness, readiness, metrics and the public signing key.</summary>
internal static class HealthEndpoints
{
    public static void Map(RouteGroupBuilder open)
    {
        open.MapGet("/healthz", () => Results.Text("ok\n"));

        open.MapGet("/readyz", (AuditLog audit, PolicyStore policy, RateLimiting.IRateLimitStore limits, Identity.IRevocationStore revocations, Hosting.ShutdownDrain drain) =>
        {
            bool auditOk = audit.EnsureWritable();
            var limitProblem = limits.Problem ?? revocations.Problem;
            bool ready = auditOk && limitProblem is null && !drain.Stopping;
            var body = new
            {
                status = drain.Stopping ? "stopping" : ready ? "ready" : "not_ready",
                audit = auditOk ? "writable" : "unwritable",
                ratelimit_store = limitProblem ?? "ok",
                policy_version = policy.Current.Version,
            };
            return Results.Json(body, statusCode: ready ? 200 : 503);
        });

        open.MapGet("/metrics", async (HttpContext ctx, PerimeterMetrics metrics, AuditLog audit, RateLimiting.IRateLimitStore limits, Identity.IRevocationStore revocations) =>
        {
            // Readiness as a series too, measured at each scrape: alerts need not probe /readyz.
            var storeUp = (limits.Problem ?? revocations.Problem) is null;
            metrics.Readiness(audit.EnsureWritable() && storeUp, storeUp);
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(ctx.Response.Body, ctx.RequestAborted);
        });

        open.MapGet("/.well-known/jwks.json", (SigningKeys keys) => Results.Json(new { keys = keys.PublicJwks() }));
    }
}
