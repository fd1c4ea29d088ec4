namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The last step before YARP's forwarder: the action's intent record is made durable, and only then is
/// the action marked as forwarding. If the intent cannot be recorded, the action is refused with 503
/// <c>audit_unavailable</c> and nothing is sent: no effect without a record.
/// </summary>
internal sealed class ForwardingBoundaryStage(RequestDelegate next, IActionRecorder recorder)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        action.RequestBytes ??= context.Request.ContentLength;
        if (!await recorder.RecordIntentAsync(action).ConfigureAwait(false))
        {
            await ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable,
                new ActionOutcome(OutcomeClass.Unavailable, "audit_unavailable",
                    Reason: "The perimeter could not record this action before forwarding it, so it did not forward it. Retry later.",
                    RetryAfter: TimeSpan.FromSeconds(1)) { NothingSent = true }).ConfigureAwait(false);
            return;
        }
        action.MarkForwarding();
        await next(context).ConfigureAwait(false);
    }
}
