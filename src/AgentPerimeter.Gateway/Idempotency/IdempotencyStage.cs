using AgentPerimeter.Protocol.Refusals;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>
/// Proxy stage for actions that carry an idempotency key (HTTP <c>Idempotency-Key</c>, MCP
/// <c>params._meta["io.agentperimeter/idempotency-key"]</c>): the first action with a key executes and
/// its answer is recorded; a later action with the same key, agent and route — after a harness crash,
/// a lost answer, a retry — gets the recorded outcome without reaching the upstream (audited as a
/// replay). The key is bound to the action: the same key for other arguments is refused.
/// Runs after policy (a replay must still be allowed) and before approvals and limits.
/// </summary>
internal sealed class IdempotencyStage(RequestDelegate next, IIdempotencyStore store, IdempotencyOptions options, TimeProvider time)
{
    private const int InProgressPolls = 20;
    private static readonly TimeSpan InProgressPollInterval = TimeSpan.FromMilliseconds(50);

    public const string Header = AgentPerimeter.Protocol.PerimeterHeaders.IdempotencyKey;
    public const string ReplayHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        if (action.IdempotencyKey is null && context.Request.Headers[Header].ToString() is { Length: > 0 } header)
            action.IdempotencyKey = header;
        var key = action.IdempotencyKey;
        if (key is null || (action.Mcp is { } m && m.Method != "tools/call"))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        if (key.Length > 255 || key.Any(char.IsControl))
        {
            await RefuseAsync(context, action, StatusCodes.Status400BadRequest, new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.InvalidIdempotencyKey, null,
                "An idempotency key is 1-255 printable characters."));
            return;
        }

        // Scoped to the issuer, agent, work type, session and route: one caller's keys never collide
        // with, or reveal, another's (nor an answer made with one work type's credentials to another).
        var scoped = RequestFingerprint.Hash($"{action.Issuer}|{action.AgentId}|{action.WorkType}|{action.SessionId}|{action.RouteId}|{key}");
        var claim = Guid.NewGuid().ToString("N");
        var fingerprint = RequestFingerprint.Hash(await RequestFingerprint.ComputeAsync(context, action).ConfigureAwait(false));
        action.IdempotencyScope = scoped;
        action.IdempotencyFingerprint = fingerprint;

        IdempotencyBegin begin;
        try
        {
            begin = await store.BeginAsync(scoped, fingerprint, claim, options.PendingTimeout, options.Window).ConfigureAwait(false);
            // The first execution may have answered its caller a moment before its outcome is stored (the
            // answer's last byte goes out as the pipeline unwinds): a prompt repeat waits for it briefly.
            for (int wait = 0; begin.State == IdempotencyState.InProgress && wait < InProgressPolls; wait++)
            {
                await Task.Delay(InProgressPollInterval, time, context.RequestAborted).ConfigureAwait(false);
                begin = await store.BeginAsync(scoped, fingerprint, claim, options.PendingTimeout, options.Window).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
        {
            await ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable, new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.IdempotencyUnavailable,
                Reason: "The perimeter cannot check this idempotency key right now, so it did not execute the action. Retry with the same key.",
                RetryAfter: TimeSpan.FromSeconds(1)));
            return;
        }

        switch (begin.State)
        {
            case IdempotencyState.Mismatch:
                await RefuseAsync(context, action, StatusCodes.Status422UnprocessableEntity, new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.IdempotencyKeyReused, action.Proposal?.RuleId,
                    "This idempotency key was already used for a different action; use a new key for a new action."));
                return;
            case IdempotencyState.InProgress:
                await ActionResponses.FailAsync(context, StatusCodes.Status409Conflict, new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.IdempotencyInProgress,
                    Reason: "An action with this idempotency key is still executing; retry with the same key to get its outcome.",
                    RetryAfter: TimeSpan.FromSeconds(1)));
                return;
            case IdempotencyState.Completed:
                await ReplayAsync(context, action, begin.Outcome!).ConfigureAwait(false);
                return;
        }

        // First execution: record what the agent receives (after scrubbing and filtering).
        var original = context.Response.Body;
        var recorder = new RecordingStream(original, options.MaxRecordedBytes);
        context.Response.Body = recorder;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
            // Could the upstream have received it? Not when a stage refused before the forwarder, nor when
            // no tunnel connection could be had (nothing was sent). Otherwise the outcome is recorded,
            // even a failure on the way ("unknown"): the action is never executed twice.
            try
            {
                if (!action.ReachedUpstream)
                    await store.ReleaseAsync(scoped, claim).ConfigureAwait(false); // refused before execution: the key is still unused
                else
                    await store.CompleteAsync(scoped, fingerprint, Capture(context, action, recorder), options.Window).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
            {
                // The claim stays: a repeat waits (409), then gets "outcome unknown"; it never re-executes.
            }
        }
    }

    private static StoredOutcome Capture(HttpContext context, ActionContext action, RecordingStream recorder)
    {
        var error = context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>();
        if (recorder.Overflowed || (error is not null && error.Error != Yarp.ReverseProxy.Forwarder.ForwarderError.None) || context.RequestAborted.IsCancellationRequested)
            return new StoredOutcome { Kind = "unknown", Status = context.Response.StatusCode, ActionId = action.ActionId };
        var body = recorder.Recorded;
        if (action.Mcp is { } mcp)
        {
            if (FindJsonRpcAnswer(body, context.Response.ContentType) is { } answer)
                return new StoredOutcome { Kind = "mcp", Member = answer.Member, Payload = answer.Payload, ActionId = action.ActionId };
            return new StoredOutcome { Kind = "unknown", Status = context.Response.StatusCode, ActionId = action.ActionId };
        }
        return new StoredOutcome
        {
            Kind = "http", Status = context.Response.StatusCode, ContentType = context.Response.ContentType,
            ContentEncoding = context.Response.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding ? encoding : null,
            Body = body, ActionId = action.ActionId,
        };
    }

    /// <summary>The JSON-RPC result or error in a JSON answer or in the SSE events of a streamed one.</summary>
    internal static (string Member, string Payload)? FindJsonRpcAnswer(byte[] body, string? contentType)
    {
        IEnumerable<string> candidates = contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true
            ? Encoding.UTF8.GetString(body).Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].Trim())
            : [Encoding.UTF8.GetString(body)];
        foreach (var text in candidates)
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out _))
                    continue;
                if (root.TryGetProperty("result", out var result))
                    return ("result", result.GetRawText());
                if (root.TryGetProperty("error", out var err))
                    return ("error", err.GetRawText());
            }
            catch (JsonException)
            {
            }
        }
        return null;
    }

    private static async Task ReplayAsync(HttpContext context, ActionContext action, StoredOutcome outcome)
    {
        if (outcome.Kind is "http" or "mcp")
        {
            action.Conclude(new ActionOutcome(OutcomeClass.Replayed, "idempotent_replay",
                Reason: $"Answered from the record of action {outcome.ActionId}, which ran with this idempotency key."));
        }
        var response = context.Response;
        response.Headers[ReplayHeader] = "true";
        if (outcome.Kind == "http")
        {
            response.StatusCode = outcome.Status;
            response.ContentType = outcome.ContentType;
            if (outcome.ContentEncoding is { } encoding)
                response.Headers.ContentEncoding = encoding;
            response.ContentLength = outcome.Body?.Length ?? 0;
            if (outcome.Body is { Length: > 0 } body)
                await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (outcome.Kind == "mcp")
        {
            var bytes = Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{action.Mcp!.RawId ?? "null"},\"{outcome.Member}\":{outcome.Payload}}}");
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        await ActionResponses.FailAsync(context, StatusCodes.Status502BadGateway, new ActionOutcome(OutcomeClass.Replayed, RefusalCodes.IdempotencyOutcomeUnknown),
            $"The action with this idempotency key was executed once (action {outcome.ActionId}), but its answer was not seen completely; it will not be executed again.").ConfigureAwait(false);
    }

    private static Task RefuseAsync(HttpContext context, ActionContext action, int status, PolicyDecision decision, string? message = null) =>
        ActionResponses.RefuseAsync(context, status, decision, message);
}
