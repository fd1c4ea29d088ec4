using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// First stage of the agent pipeline: opens the action, and guarantees it ends in exactly one audit
/// record and one metrics increment whatever happens downstream. The record is made durable in
/// <c>OnStarting</c>, i.e. before the agent sees a single byte of the answer.
/// </summary>
internal sealed partial class ActionMiddleware(
    RequestDelegate next,
    AuditLog audit,
    PerimeterMetrics metrics,
    PolicyStore policy,
    TimeProvider time,
    GatewayLimits limits,
    Secrets.SecretScrubber scrubber,
    ILogger<ActionMiddleware> logger)
{
    private static readonly Func<object, Task> OnStartingCallback = static state =>
    {
        var (self, context) = ((ActionMiddleware, HttpContext))state;
        return self.RecordAsync(context, responseStarting: true);
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var action = new ActionContext("act_" + Guid.CreateVersion7().ToString("N"), time.GetUtcNow())
        {
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "/",
        };
        context.Features.Set<IActionFeature>(new ActionFeature(action));
        context.Response.OnStarting(OnStartingCallback, (this, context));

        if (!audit.EnsureWritable())
        {
            // Nothing may act unrecorded. This refusal cannot be audited either: log and count it.
            Interlocked.Exchange(ref action.Recorded, 1);
            action.Decision = new PolicyDecision(DecisionOutcome.Unavailable, "audit_unavailable", null,
                "The perimeter cannot record actions right now, so it refuses them. Retry later.");
            Log.RefusedAuditDown(logger, action.ActionId, action.Method, action.Path);
            context.Response.Headers[ActionResponses.ActionIdHeader] = action.ActionId;
            await ActionResponses.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, action.Decision).ConfigureAwait(false);
            metrics.Action(action, governed: false);
            return;
        }

        if (context.Request.ContentLength > limits.MaxRequestBodyBytes)
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status413PayloadTooLarge,
                new PolicyDecision(DecisionOutcome.BadRequest, "body_too_large", null,
                    $"The request body exceeds the perimeter's limit of {limits.MaxRequestBodyBytes} bytes.")).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            action.Exception ??= "client disconnected";
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            action.Exception = $"{ex.GetType().Name}: {ex.Message}";
            Log.StageFailed(logger, action.ActionId, ex);
            await ActionResponses.RefuseAsync(context, StatusCodes.Status500InternalServerError,
                new PolicyDecision(DecisionOutcome.Unavailable, "gateway_error", action.Decision.RuleId,
                    "The perimeter failed while handling this action; it was not completed.")).ConfigureAwait(false);
        }
        finally
        {
            // Aborted before any response started (client gone): still exactly one record.
            if (Volatile.Read(ref action.Recorded) == 0)
                await RecordAsync(context, responseStarting: false).ConfigureAwait(false);
        }
    }

    private async Task RecordAsync(HttpContext context, bool responseStarting)
    {
        var action = context.GetAction();
        if (Interlocked.Exchange(ref action.Recorded, 1) != 0)
            return;

        if (responseStarting)
            context.Response.Headers[ActionResponses.ActionIdHeader] = action.ActionId;
        action.Status = responseStarting ? context.Response.StatusCode : 499;

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null && error.Error != ForwarderError.None)
        {
            action.Exception ??= error.Exception is { } ex
                ? $"{error.Error}: {ex.GetType().Name}: {ex.Message}"
                : error.Error.ToString();
        }
        else if (action.SentUpstream && responseStarting)
        {
            action.UpstreamStatus ??= context.Response.StatusCode;
        }
        if (action.Decision.Outcome == DecisionOutcome.Pending && action.Status == StatusCodes.Status404NotFound)
            action.Decision = new PolicyDecision(DecisionOutcome.NotFound, "route_not_found", null, "No route matches this request.");

        var fields = AuditRecord.SerializeFields(action, policy.Current.Version, scrubber);
        bool durable = await audit.AppendAsync(fields).ConfigureAwait(false);
        var flags = AuditRecord.GovernedFlags(action, durable);
        metrics.Action(action, flags.All);

        if (!durable)
        {
            // The answer must not reach the agent unrecorded: drop the connection instead.
            Log.AbortedUnrecorded(logger, action.ActionId, action.Method, action.Path, action.Decision.Label);
            context.Abort();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Action {ActionId} {Method} {Path} refused: audit log unavailable")]
        public static partial void RefusedAuditDown(ILogger logger, string actionId, string method, string path);

        [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "Action {ActionId} {Method} {Path} ({Decision}) could not be recorded; connection aborted")]
        public static partial void AbortedUnrecorded(ILogger logger, string actionId, string method, string path, string decision);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Action {ActionId}: a pipeline stage failed")]
        public static partial void StageFailed(ILogger logger, string actionId, Exception exception);
    }
}

/// <summary>Request limits of the agent listener.</summary>
public sealed class GatewayLimits
{
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;
}
