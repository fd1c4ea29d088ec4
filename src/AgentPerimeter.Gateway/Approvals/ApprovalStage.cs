using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Approvals;

/// <summary>
/// The approval gate: an action allowed by a rule with <c>"Approval": "required"</c> is held until a
/// human decides. Without an approval id the gateway creates a pending approval bound to the session,
/// the route, the tool (or method and path) and the exact arguments, and answers
/// <c>approval_required</c> with its id. The caller repeats the action with that id
/// (<c>X-Perimeter-Approval</c>, or MCP <c>_meta["io.agentperimeter/approval-id"]</c>): pending → asked
/// to wait, denied → refused, approved → forwarded once (the approval is spent).
/// </summary>
internal sealed class ApprovalStage(RequestDelegate next, IApprovalStore store, TimeProvider time, ApprovalOptions options, ApprovalPageLinks links)
{
    public const string Header = AgentPerimeter.Protocol.PerimeterHeaders.Approval;

    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        if (action.IsDecided || action.Proposal?.RuleId is not { } ruleId || !RequiresApproval(context, action, ruleId))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        try
        {
            await GateAsync(context, action, ruleId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException && !context.Response.HasStarted && !action.ReachedUpstream)
        {
            // The approvals cannot be read: hold the call rather than let it through unapproved.
            await ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable, new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.ApprovalUnavailable,
                Reason: "The perimeter cannot check approvals right now, so it did not make this call. Retry later.", RetryAfter: TimeSpan.FromSeconds(1)));
        }
    }

    private async Task GateAsync(HttpContext context, ActionContext action, string ruleId)
    {
        var expiry = options.Expiry;
        var fingerprint = RequestFingerprint.Hash(await RequestFingerprint.ComputeAsync(context, action).ConfigureAwait(false));
        if (action.ApprovalId is null && context.Request.Headers[Header].ToString() is { Length: > 0 } header)
            action.ApprovalId = header;
        var what = action.Mcp is { } mcp ? $"{mcp.Method} {mcp.Target}" : $"{action.Method} {action.Path}{context.Request.QueryString}";
        var shown = action.Mcp?.FullArguments;
        if (action.Mcp is null && (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0))
        {
            // The fingerprint buffered the body once; the human sees what would be sent.
            shown = System.Text.Encoding.UTF8.GetString((await RequestFingerprint.BufferBodyAsync(context, action).ConfigureAwait(false)).Span);
        }
        if (shown is { Length: > MaxShownChars })
        {
            await RefuseAsync(context, action, Deny(RefusalCodes.ApprovalTooLarge, ruleId,
                $"A call that needs a human's approval must be small enough to show in full ({MaxShownChars} characters of arguments or body at most)."));
            return;
        }

        // A client that can open URLs is shown the approval page, and simply retries the call when its human
        // says so: its retry finds the approval held for exactly this call (same session, agent, arguments).
        bool showPage = action.Mcp?.ClientElicitsUrl == true;
        if (showPage && action.ApprovalId is null && await store.FindAsync(action.SessionId!, action.AgentId!, fingerprint).ConfigureAwait(false) is { } held)
            action.ApprovalId = held.Id;

        if (action.ApprovalId is null)
        {
            var now = time.GetUtcNow();
            var created = await store.CreateAsync(new Approval
            {
                Id = "apr_" + Guid.CreateVersion7().ToString("N"),
                AgentId = action.AgentId!, SessionId = action.SessionId!, WorkType = action.WorkType!, Route = action.RouteId!, RuleId = ruleId,
                What = what, Arguments = shown, Fingerprint = fingerprint, CreatedAt = now, ExpiresAt = now + expiry,
            });
            action.ApprovalId = created.Id;
            if (showPage)
                Prompt(action, created.Id, what);
            await HoldAsync(context, action, ruleId, RefusalCodes.ApprovalRequired,
                $"{what} needs a human's approval (rule '{ruleId}'). Approval {created.Id} is pending; repeat this call with it once an operator has decided.");
            return;
        }

        var approval = await store.GetAsync(action.ApprovalId);
        PolicyDecision? refusal = approval switch
        {
            null => Deny(RefusalCodes.ApprovalUnknown, ruleId, $"Approval '{action.ApprovalId}' does not exist."),
            _ when approval.SessionId != action.SessionId || approval.AgentId != action.AgentId || approval.WorkType != action.WorkType
                || approval.Route != action.RouteId || approval.Fingerprint != fingerprint =>
                Deny(RefusalCodes.ApprovalMismatch, ruleId, $"Approval '{approval.Id}' was given for another call ({approval.What} with other arguments, or another session); it cannot be used for this one."),
            { Status: ApprovalStatus.Denied } => Deny(RefusalCodes.ApprovalDenied, ruleId, $"An operator denied {what} (approval {approval.Id}). Do not retry it."),
            { Status: ApprovalStatus.Expired } => Deny(RefusalCodes.ApprovalExpired, ruleId, $"Approval {approval.Id} expired before it was used; ask again."),
            { Status: ApprovalStatus.Used } => Deny(RefusalCodes.ApprovalUsed, ruleId, $"Approval {approval.Id} was already used by action {approval.UsedByAction}; each approval allows one call."),
            _ => null,
        };
        if (refusal is not null)
        {
            await RefuseAsync(context, action, refusal);
            return;
        }
        if (approval!.Status == ApprovalStatus.Pending)
        {
            if (showPage)
                Prompt(action, approval.Id, what);
            await HoldAsync(context, action, ruleId, RefusalCodes.ApprovalPending, $"Approval {approval.Id} for {what} is still pending; wait for an operator's decision.");
            return;
        }
        if (!await store.TryConsumeAsync(approval.Id, action.ActionId))
        {
            await RefuseAsync(context, action, Deny(RefusalCodes.ApprovalUsed, ruleId, $"Approval {approval.Id} was already used; each approval allows one call."));
            return;
        }
        await next(context).ConfigureAwait(false);
        // Refused after this stage (a rate limit, a missing credential, no tunnel connector): the
        // approved call did not happen, so the approval is not spent.
        if (!action.ReachedUpstream)
            await store.RestoreAsync(approval.Id, action.ActionId);
    }

    private void Prompt(ActionContext action, string approvalId, string what)
    {
        if (links.For(approvalId) is { } url)
            action.ApprovalPrompt = new ApprovalPrompt(approvalId, url,
                $"AgentPerimeter holds {ActionResponses.Visible(ActionResponses.Printable(what, 200))} until a person approves it. Open the page to review the call and decide; then retry it.");
    }

    private const int MaxShownChars = 16 * 1024;

    private static bool RequiresApproval(HttpContext context, ActionContext action, string ruleId)
    {
        var policy = context.GetPolicy();
        // Every action the rule decides: HTTP requests, and MCP tools/call, resources/read and prompts/get
        // (the lifecycle and listing messages of the session are not actions a human needs to approve).
        return policy.ApprovalRules.Count > 0 && policy.ApprovalRules.Contains(ruleId)
            && (action.Mcp is null || action.Mcp.Method is "tools/call" or "resources/read" or "resources/subscribe" or "prompts/get");
    }

    private static PolicyDecision Deny(string code, string rule, string reason) => new(DecisionOutcome.Deny, code, rule, reason);

    private static Task HoldAsync(HttpContext context, ActionContext action, string ruleId, string code, string message) =>
        RefuseAsync(context, action, new PolicyDecision(DecisionOutcome.ApprovalRequired, code, ruleId, message));

    private static Task RefuseAsync(HttpContext context, ActionContext action, PolicyDecision decision) =>
        ActionResponses.RefuseAsync(context, decision.Outcome switch
        {
            DecisionOutcome.ApprovalRequired => StatusCodes.Status428PreconditionRequired,
            DecisionOutcome.Unavailable => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status403Forbidden,
        }, decision);
}
