using AgentPerimeter.Protocol.Refusals;

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

    private static async Task<IResult> DecideApproval(string id, bool approve, HttpContext context, Approvals.IApprovalStore approvals, OperatorRecords records)
    {
        var by = context.Request.Headers[AgentPerimeter.Protocol.PerimeterHeaders.Operator].ToString() is { Length: > 0 and <= 64 } name && !name.Any(char.IsControl) ? name : "operator";
        // Recorded before it takes effect: a decision the log cannot hold is not made.
        if (await approvals.GetAsync(id) is { Status: Approvals.ApprovalStatus.Pending } pending
            && !await records.RecordAsync(context, approve ? "approval_approved" : "approval_denied", new("approval_id", pending.Id),
                new("agent", pending.AgentId), new("work_type", pending.WorkType), new("route", pending.Route), new("what", pending.What)))
            return OperatorRecords.Unrecorded("it did not decide the approval");
        switch (await approvals.DecideAsync(id, approve, by))
        {
            case null:
                return Results.Json(new { error = RefusalCodes.UnknownApproval, message = $"No approval '{id}'." }, statusCode: 404);
            case false:
                return Results.Json(new { error = RefusalCodes.ApprovalNotPending, message = $"Approval '{id}' is {(await approvals.GetAsync(id))!.Status.ToString().ToLowerInvariant()}; only a pending approval can be decided." }, statusCode: 409);
            default:
                return Results.Json(ApprovalJson((await approvals.GetAsync(id))!));
        }
    }

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/admin/approvals", async (Approvals.IApprovalStore approvals) => Results.Json((await approvals.AllAsync()).Select(ApprovalJson)));
        admin.MapGet("/admin/approvals/{id}", async (string id, Approvals.IApprovalStore approvals) =>
            await approvals.GetAsync(id) is { } a ? Results.Json(ApprovalJson(a)) : Results.Json(new { error = RefusalCodes.UnknownApproval, message = $"No approval '{id}'." }, statusCode: 404));
        admin.MapPost("/admin/approvals/{id}/approve", (string id, HttpContext ctx, Approvals.IApprovalStore approvals, OperatorRecords records) => DecideApproval(id, true, ctx, approvals, records));
        admin.MapPost("/admin/approvals/{id}/deny", (string id, HttpContext ctx, Approvals.IApprovalStore approvals, OperatorRecords records) => DecideApproval(id, false, ctx, approvals, records));
    }
}
