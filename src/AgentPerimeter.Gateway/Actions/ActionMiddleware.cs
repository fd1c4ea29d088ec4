using AgentPerimeter.Protocol.Refusals;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// First stage of the agent pipeline: opens the action, and guarantees it ends in exactly one record
/// (through <see cref="IActionRecorder"/>) whatever happens downstream. The record is made durable in
/// <c>OnStarting</c>, i.e. before the agent sees a single byte of the answer.
/// </summary>
internal sealed partial class ActionMiddleware(
    RequestDelegate next,
    IActionRecorder recorder,
    TimeProvider time,
    GatewayLimits limits,
    ActionLogOptions logOptions,
    ILogger<ActionMiddleware> logger)
{
    private static readonly Func<object, Task> OnStartingCallback = static state =>
    {
        var (self, context) = ((ActionMiddleware, HttpContext))state;
        return self.RecordAsync(context, responseStarting: true);
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var action = new ActionContext(ActionContext.NewId(), time.GetUtcNow())
        {
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "/",
            TraceParent = ActionContext.ValidTraceParent(context.Request.Headers["traceparent"].ToString()),
        };
        context.Features.Set<IActionFeature>(new ActionFeature(action));
        context.Response.OnStarting(OnStartingCallback, (this, context));
        // Every log line written while this action runs — YARP's proxy errors included — carries its id
        // and route (read when the line is written, so the route is there once it is known).
        using var scope = logger.BeginScope(new ActionLogScope(action));

        if (!recorder.CanRecord())
        {
            // Nothing may act unrecorded. This refusal cannot be recorded either: log it (the recorder counts it).
            action.TryClaimRecord();
            Log.RefusedAuditDown(logger, action.ActionId, action.Method, action.Path);
            context.Response.Headers[ActionResponses.ActionIdHeader] = action.ActionId;
            await ActionResponses.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, new PolicyDecision(DecisionOutcome.Unavailable, RefusalCodes.AuditUnavailable, null,
                "The perimeter cannot record actions right now, so it refuses them. Retry later.")).ConfigureAwait(false);
            recorder.CountUnrecorded(action);
            return;
        }

        if (context.Request.ContentLength > limits.MaxRequestBodyBytes)
        {
            await ActionResponses.RefuseAsync(context, StatusCodes.Status413PayloadTooLarge,
                new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.BodyTooLarge, null,
                    $"The request body exceeds the perimeter's limit of {limits.MaxRequestBodyBytes} bytes.")).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
            // A proxied route that YARP answered before any perimeter stage ran (its cluster is missing or
            // has no usable configuration): the agent still gets the perimeter's answer and an action id.
            if (!action.IsDecided && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested
                && context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable
                && context.GetEndpoint()?.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>() is { } route)
            {
                action.RouteId ??= route.Config.RouteId;
                await ActionResponses.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, new PolicyDecision(DecisionOutcome.Unavailable, RefusalCodes.RouteUnavailable, null,
                    $"Route '{route.Config.RouteId}' cannot forward right now (its cluster is missing or has no destination).")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            action.Exception ??= "client disconnected";
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            action.Exception = $"{ex.GetType().Name}: {ex.Message}";
            Log.StageFailed(logger, action.ActionId, ex);
            await ActionResponses.FailAsync(context, StatusCodes.Status500InternalServerError,
                new ActionOutcome(OutcomeClass.GatewayError, RefusalCodes.GatewayError, Reason: "The perimeter failed while handling this action; it was not completed.")).ConfigureAwait(false);
        }
        finally
        {
            // No response started yet: either the client is gone (recorded as 499), or the answer has no
            // body (a 202 or empty 200/204 is only sent when the pipeline returns) — recorded with its real
            // status, and the header still reaches the client.
            if (!action.IsRecorded)
                await RecordAsync(context, responseStarting: !context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted).ConfigureAwait(false);
        }
    }

    private async Task RecordAsync(HttpContext context, bool responseStarting)
    {
        var action = context.GetAction();
        if (!action.TryClaimRecord())
            return;

        if (responseStarting && !context.Response.HasStarted)
            context.Response.Headers[ActionResponses.ActionIdHeader] = action.ActionId;
        action.Status = responseStarting ? context.Response.StatusCode : 499;

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null && error.Error != ForwarderError.None)
        {
            action.Exception ??= error.Exception is { } ex
                ? $"{error.Error}: {ex.GetType().Name}: {ex.Message}"
                : error.Error.ToString();
        }
        else if (action.ReachedUpstream && responseStarting)
        {
            action.UpstreamStatus ??= context.Response.StatusCode;
        }
        if (!action.IsDecided && action.Status == StatusCodes.Status404NotFound)
            action.Decide(new PolicyDecision(DecisionOutcome.NotFound, RefusalCodes.RouteNotFound, null, "No route matches this request."));

        if (!await recorder.RecordAsync(action).ConfigureAwait(false))
        {
            // The answer must not reach the agent unrecorded: drop the connection instead.
            Log.AbortedUnrecorded(logger, action.ActionId, action.Method, action.Path, action.DecisionLabel);
            context.Abort();
            return;
        }
        if (logOptions.AccessLog)
        {
            Log.Access(logger, action.ActionId, action.AgentId ?? "-", action.WorkType ?? "-", action.RouteId ?? "-",
                action.Mcp?.Target ?? action.Mcp?.Method ?? action.Path, action.DecisionLabel, action.OutcomeLabel, action.Status, (long)action.Elapsed.TotalMilliseconds);
        }
        else if (action.Refused)
        {
            Log.Refused(logger, action.ActionId, action.AgentId ?? "-", action.WorkType ?? "-", action.RouteId ?? "-", action.Method, action.Path, action.DecisionLabel, action.Code);
        }
    }

    /// <summary>The action's id and route as log scope properties, read when a line is written.</summary>
    private sealed class ActionLogScope(ActionContext action) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 2;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("ActionId", action.ActionId),
            1 => new("Route", action.RouteId),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"action {action.ActionId} route {action.RouteId}";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Action {ActionId} {Method} {Path} refused: audit log unavailable")]
        public static partial void RefusedAuditDown(ILogger logger, string actionId, string method, string path);

        [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "Action {ActionId} {Method} {Path} ({Decision}) could not be recorded; connection aborted")]
        public static partial void AbortedUnrecorded(ILogger logger, string actionId, string method, string path, string decision);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Action {ActionId}: a pipeline stage failed")]
        public static partial void StageFailed(ILogger logger, string actionId, Exception exception);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information,
            Message = "Action {ActionId} agent={Agent} work_type={WorkType} route={Route} target={Target} decision={Decision} outcome={Outcome} status={Status} duration_ms={DurationMs}")]
        public static partial void Access(ILogger logger, string actionId, string agent, string workType, string route, string target, string decision, string outcome, int status, long durationMs);

        [LoggerMessage(EventId = 5, Level = LogLevel.Information,
            Message = "Refused {ActionId}: agent={Agent} work_type={WorkType} route={Route} {Method} {Path} decision={Decision} code={Code}")]
        public static partial void Refused(ILogger logger, string actionId, string agent, string workType, string route, string method, string path, string decision, string code);
    }
}
