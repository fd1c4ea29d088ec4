using AgentPerimeter.Gateway.Actions;
using Yarp.ReverseProxy.Forwarder;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// Runs around YARP's forwarder: when forwarding failed before a response started, YARP has already
/// chosen the status (400/502/504...); this stage gives the agent the perimeter's usual answer shape
/// instead of an empty body, without the upstream's address or the exception text (those go to the
/// audit record).
/// </summary>
internal static class UpstreamErrorStage
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        await next().ConfigureAwait(false);
        var error = context.GetForwarderErrorFeature();
        // A client that went away needs no answer; the audit record keeps the error.
        if (error is null || error.Error == ForwarderError.None || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            return;

        var action = context.GetAction();
        int status = context.Response.StatusCode >= 400 ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        if (Tunnels.TunnelForwarderHttpClientFactory.FindUnavailable(error.Exception) is { } tunnel)
        {
            action.RetryAfter = TimeSpan.FromSeconds(1);
            await ActionResponses.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, action.Decision with { Code = "tunnel_unavailable" },
                $"Route '{action.RouteId}': {tunnel.Message}").ConfigureAwait(false);
            return;
        }
        var (code, message) = error.Error switch
        {
            ForwarderError.RequestTimedOut => ("upstream_timeout", $"Route '{action.RouteId}' did not answer in time."),
            ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.RequestCanceled
                => ("request_body_error", "The request body could not be read completely."),
            _ => ("upstream_unavailable", $"Route '{action.RouteId}' could not be reached."),
        };
        // The decision stands (the action was allowed); the code says what went wrong after it.
        await ActionResponses.RefuseAsync(context, status, action.Decision with { Code = code }, message).ConfigureAwait(false);
    }
}
