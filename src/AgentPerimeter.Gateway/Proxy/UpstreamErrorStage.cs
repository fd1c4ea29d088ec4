using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using Yarp.ReverseProxy.Forwarder;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// Runs around YARP's forwarder: when forwarding failed, the action gets its outcome (upstream
/// unavailable, timed out, nothing sent); when no response started yet, the agent gets the perimeter's
/// usual answer shape instead of YARP's empty body, without the upstream's address or the exception
/// text (those go to the audit record).
/// </summary>
internal sealed class UpstreamErrorStage(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);
        var error = context.GetForwarderErrorFeature();
        if (error is null || error.Error == ForwarderError.None)
            return;

        var action = context.GetAction();
        bool answer = !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested;
        if (IUnsentFailure.Find(error.Exception) is { } unsent)
        {
            var outcome = new ActionOutcome(OutcomeClass.UpstreamFailed, unsent.Code, RetryAfter: TimeSpan.FromSeconds(1)) { NothingSent = true };
            if (answer)
                await ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable, outcome, $"Route '{action.RouteId}': {unsent.Message}").ConfigureAwait(false);
            else
                action.Conclude(outcome);
            return;
        }
        var (code, message) = error.Error switch
        {
            ForwarderError.RequestTimedOut => (RefusalCodes.UpstreamTimeout, $"Route '{action.RouteId}' did not answer in time."),
            ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.RequestCanceled
                => (RefusalCodes.RequestBodyError, "The request body could not be read completely."),
            _ => (RefusalCodes.UpstreamUnavailable, $"Route '{action.RouteId}' could not be reached."),
        };
        // A client that went away needs no answer; the audit record keeps the error.
        if (!answer)
            return;
        int status = context.Response.StatusCode >= 400 ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        await ActionResponses.FailAsync(context, status, new ActionOutcome(OutcomeClass.UpstreamFailed, code), message).ConfigureAwait(false);
    }
}
