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

/// <summary>Held calls: list, show, approve or deny (the operator named by X-Perimeter-Operator).</summary>
internal static class ApprovalAdminEndpoints
{
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

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/admin/approvals", async (Approvals.IApprovalStore approvals) => Results.Json((await approvals.AllAsync()).Select(ApprovalJson)));
        admin.MapGet("/admin/approvals/{id}", async (string id, Approvals.IApprovalStore approvals) =>
            await approvals.GetAsync(id) is { } a ? Results.Json(ApprovalJson(a)) : Results.Json(new { error = RefusalCodes.UnknownApproval, message = $"No approval '{id}'." }, statusCode: 404));
        admin.MapPost("/admin/approvals/{id}/approve", (string id, HttpContext ctx, Approvals.IApprovalStore approvals) => DecideApproval(id, true, ctx, approvals));
        admin.MapPost("/admin/approvals/{id}/deny", (string id, HttpContext ctx, Approvals.IApprovalStore approvals) => DecideApproval(id, false, ctx, approvals));
    }
}
