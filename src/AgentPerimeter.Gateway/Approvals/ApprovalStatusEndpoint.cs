using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Approvals;

internal static class ApprovalStatusEndpoint
{
    /// <summary>
    /// <c>GET /.perimeter/approvals/{id}</c> on the agent listener: a session asks, with its own token,
    /// whether a call it is holding has been decided — so a harness needs no operator credentials to
    /// wait for a human. Another session's approval does not exist for it. Audited like any action.
    /// </summary>
    public static void MapApprovalStatus(this WebApplication app) =>
        app.MapGet("/" + AgentPerimeter.Protocol.PerimeterPaths.AgentApprovals + "/{id}", async (HttpContext context, string id, IApprovalStore store) =>
        {
            var action = context.GetAction();
            action.RouteId = "perimeter-approvals";
            var approval = await store.GetAsync(id);
            if (approval is null || approval.SessionId != action.SessionId || approval.AgentId != action.AgentId)
            {
                await ActionResponses.RefuseAsync(context, StatusCodes.Status404NotFound,
                    new PolicyDecision(DecisionOutcome.NotFound, RefusalCodes.ApprovalUnknown, null, $"This session has no approval '{id}'."));
                return;
            }
            action.ApprovalId = approval.Id;
            action.Decide(new PolicyDecision(DecisionOutcome.Allow, "approval_status", null, null));
            await context.Response.WriteAsJsonAsync(new
            {
                id = approval.Id,
                status = approval.Status.ToString().ToLowerInvariant(),
                what = approval.What,
                expires_at = approval.ExpiresAt,
            });
        }).WithMetadata(new ListenerMetadata(ListenerKind.Agent));
}
