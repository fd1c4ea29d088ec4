using AgentPerimeter.Protocol.Refusals;
using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Secrets;
using Yarp.ReverseProxy.Transforms;
namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// The gateway's one response transform (YARP), for every route. On routes secrets are injected into,
/// secret values are masked in headers and bodies (small bodies whole, large ones chunk by chunk, SSE
/// event by event); a compressed body there, or on an MCP route, is refused since it cannot be
/// inspected. On MCP routes, lists are filtered and server messages audited (<see cref="McpResponseFilter"/>),
/// and every SSE stream is relayed event by event — each event flushed as soon as it is complete.
/// </summary>
internal sealed partial class InspectingResponseTransform(SecretScrubber scrubber, McpResponseFilter mcpFilter, GatewayLimits limits, IActionRecorder recorder, ILogger<InspectingResponseTransform> logger) : ResponseTransform
{
    private const long SmallBody = 64 * 1024;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        try
        {
            await ApplyCoreAsync(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.HttpContext.Response.HasStarted && ex is OperationCanceledException or IOException or HttpRequestException)
        {
            // A stream that ends mid-answer once the agent has the headers: a client walking away from an
            // SSE stream is normal (nothing to log); an upstream that broke off is the action's exception,
            // and the agent's connection is aborted so it cannot take a cut answer for a whole one.
            var http = context.HttpContext;
            if (!http.RequestAborted.IsCancellationRequested)
            {
                if (http.Features.Get<IActionFeature>()?.Action is { } action)
                    action.Exception ??= $"the upstream's answer broke off: {ex.GetType().Name}";
                http.Abort();
            }
        }
    }

    private async Task ApplyCoreAsync(ResponseTransformContext context)
    {
        var http = context.HttpContext;
        var action = http.Features.Get<IActionFeature>()?.Action;
        if (action is null || context.ProxyResponse is not { } upstream)
            return;
        var mcp = action.Mcp;
        // Only routes that secrets are injected into can echo them; other routes stream untouched.
        bool scrub = !scrubber.IsEmpty && action.RouteId is { } route
            && http.GetPolicy().Section<SecretCatalog>().BindingsByRoute.ContainsKey(route);
        if (mcp is null && !scrub)
            return;

        if (scrub)
            ScrubHeaders(http.Response.Headers, scrubber);

        // A compressed body cannot be inspected or scrubbed (the request asked for none): refuse to relay it,
        // whether the coding is a content coding or a transfer coding other than chunked (which HttpClient
        // undoes itself; "gzip, chunked" would leave the gzip in place).
        if (upstream.Content.Headers.ContentEncoding.Any(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase))
            || upstream.Headers.TransferEncoding.Any(e => !e.Value.Equals("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            context.SuppressResponseBody = true;
            http.Response.Headers.Remove("Content-Encoding");
            http.Response.Headers.ContentLength = null;
            action.Exception = "upstream sent a compressed body the perimeter must inspect";
            action.UpstreamStatus = (int)upstream.StatusCode;
            await ActionResponses.FailAsync(http, StatusCodes.Status502BadGateway,
                new ActionOutcome(OutcomeClass.NotInspectable, RefusalCodes.UpstreamResponseNotInspectable),
                $"Route '{action.RouteId}' answered in a form the perimeter cannot inspect.").ConfigureAwait(false);
            return;
        }

        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        if (string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            context.SuppressResponseBody = true;
            http.Response.Headers.ContentLength = null;
            await RelaySseAsync(http, mcp, upstream, scrub ? scrubber : null).ConfigureAwait(false);
        }
        else if (mcp is not null && (int)upstream.StatusCode is >= 200 and < 300)
        {
            // Everything a client may parse as MCP messages is inspected whole, or not relayed.
            await InspectMcpBodyAsync(context, http, action, upstream, mediaType, scrub ? scrubber : null).ConfigureAwait(false);
        }
        else if (!scrub)
        {
            return; // an MCP error status (e.g. 404 for an ended session): clients do not read messages from it
        }
        else if (upstream.Content.Headers.ContentLength is { } length && length <= SmallBody)
        {
            // A small body of known length: scrub it whole and keep it a plain Content-Length answer.
            context.SuppressResponseBody = true;
            var body = await upstream.Content.ReadAsByteArrayAsync(http.RequestAborted).ConfigureAwait(false);
            var output = new System.Buffers.ArrayBufferWriter<byte>(body.Length + 16);
            scrubber.ScrubChunk(body, final: true, output);
            http.Response.Headers.ContentLength = output.WrittenCount;
            await http.Response.Body.WriteAsync(output.WrittenMemory, http.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            context.SuppressResponseBody = true;
            http.Response.Headers.ContentLength = null;
            await CopyScrubbedAsync(http, upstream, scrubber).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A 2xx answer on an MCP route that is not a stream: JSON (a leading byte-order mark dropped, as a
    /// client's decoder drops it) is read whole, scrubbed and inspected; an empty body passes; anything
    /// else (another media type, too large, not UTF-8, not a readable JSON-RPC message) is refused
    /// <c>upstream_response_not_inspectable</c> rather than relayed.
    /// </summary>
    private async Task InspectMcpBodyAsync(ResponseTransformContext context, HttpContext http, ActionContext action, HttpResponseMessage upstream, string? mediaType, SecretScrubber? scrubber)
    {
        bool json = string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase);
        if (!json && upstream.Content.Headers.ContentLength == 0)
            return; // 202 Accepted and the like: nothing a client parses
        context.SuppressResponseBody = true;
        var body = await ReadBoundedAsync(upstream, limits.MaxInspectedMessageBytes, http.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await NotInspectableAsync(http, action, upstream, $"the answer is larger than the {limits.MaxInspectedMessageBytes} bytes the perimeter inspects").ConfigureAwait(false);
            return;
        }
        if (body.Length == 0)
        {
            http.Response.Headers.ContentLength = 0;
            return;
        }
        if (!json)
        {
            await NotInspectableAsync(http, action, upstream, $"an MCP answer of type '{ActionResponses.Printable(mediaType ?? "(none)", 80)}' (only application/json and text/event-stream are inspected)").ConfigureAwait(false);
            return;
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(body.AsSpan(body.AsSpan().StartsWith(Utf8Bom) ? Utf8Bom.Length : 0));
        }
        catch (DecoderFallbackException)
        {
            await NotInspectableAsync(http, action, upstream, "the answer is not valid UTF-8").ConfigureAwait(false);
            return;
        }
        if (scrubber is not null)
            text = scrubber.Scrub(text)!; // before re-serializing escapes it
        var inspection = mcpFilter.Inspect(http, text);
        if (inspection.Problem is { } problem)
        {
            await NotInspectableAsync(http, action, upstream, problem).ConfigureAwait(false);
            return;
        }
        var output = inspection.Rewritten ?? text;
        if (scrubber is not null && inspection.Rewritten is not null)
            output = scrubber.Scrub(output)!;
        var bytes = Encoding.UTF8.GetBytes(output);
        http.Response.Headers.ContentLength = bytes.Length;
        await http.Response.Body.WriteAsync(bytes, http.RequestAborted).ConfigureAwait(false);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>The whole body, or null when it is longer than <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpResponseMessage upstream, int max, CancellationToken cancellationToken)
    {
        if (upstream.Content.Headers.ContentLength > max)
            return null;
        var stream = await upstream.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var copy = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (copy.Length + read > max)
                    return null;
                copy.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return copy.ToArray();
    }

    private static Task NotInspectableAsync(HttpContext http, ActionContext action, HttpResponseMessage upstream, string problem)
    {
        http.Response.Headers.ContentLength = null;
        action.Exception = "not inspectable: " + problem;
        action.UpstreamStatus = (int)upstream.StatusCode;
        return ActionResponses.FailAsync(http, StatusCodes.Status502BadGateway,
            new ActionOutcome(OutcomeClass.NotInspectable, RefusalCodes.UpstreamResponseNotInspectable),
            $"Route '{action.RouteId}' answered in a form the perimeter cannot inspect: {problem}.");
    }

    private static void ScrubHeaders(IHeaderDictionary headers, SecretScrubber scrubber)
    {
        foreach (var (name, values) in headers.ToList())
        {
            if (values.Any(v => v is not null && scrubber.Contains(v)))
                headers[name] = new Microsoft.Extensions.Primitives.StringValues(values.Select(v => scrubber.Scrub(v)).ToArray());
        }
    }

    /// <summary>
    /// Streams a body through the scrubber chunk by chunk, flushing each, and holding back only the few
    /// bytes that could be the start of a secret continuing in the next chunk.
    /// </summary>
    private static async Task CopyScrubbedAsync(HttpContext http, HttpResponseMessage upstream, SecretScrubber scrubber)
    {
        var stream = await upstream.Content.ReadAsStreamAsync(http.RequestAborted).ConfigureAwait(false);
        var output = http.Response.Body;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024 + scrubber.MaxValueBytes);
        var scrubbed = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
        int carry = 0;
        try
        {
            bool unflushed = false;
            while (true)
            {
                var pending = stream.ReadAsync(buffer.AsMemory(carry, buffer.Length - carry), http.RequestAborted);
                // Flush what was written only when the next bytes are not already here: streaming keeps
                // its timing, and a body that arrives at once costs no extra send.
                if (unflushed && !pending.IsCompleted)
                {
                    await output.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                    unflushed = false;
                }
                int read = await pending.ConfigureAwait(false);
                bool final = read == 0;
                int length = carry + read;
                scrubbed.ResetWrittenCount();
                int consumed = scrubber.ScrubChunk(buffer.AsSpan(0, length), final, scrubbed);
                if (scrubbed.WrittenCount > 0)
                {
                    await output.WriteAsync(scrubbed.WrittenMemory, http.RequestAborted).ConfigureAwait(false);
                    unflushed = true;
                }
                // What could still be the start of a value moves to the front for the next read.
                carry = length - consumed;
                buffer.AsSpan(consumed, carry).CopyTo(buffer);
                if (final)
                    break;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Relays a server-sent event stream event by event: the headers go out at once (a stream that only
    /// sends keep-alives is not held back), each event is parsed as a client parses it
    /// (<see cref="SseEventParser"/>), inspected, and written in one normal form, then flushed. An event
    /// that cannot be inspected is withheld (and recorded); a stream that cannot be parsed is ended.
    /// </summary>
    private async Task RelaySseAsync(HttpContext http, McpActionInfo? mcp, HttpResponseMessage upstream, SecretScrubber? scrubber)
    {
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        var stream = await upstream.Content.ReadAsStreamAsync(http.RequestAborted).ConfigureAwait(false);
        var reader = PipeReader.Create(stream);
        var output = http.Response.Body;
        var parser = new SseEventParser(limits.MaxInspectedMessageBytes);
        var events = new List<SseEvent>();
        var text = new StringBuilder();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(http.RequestAborted).ConfigureAwait(false);
                SequencePosition consumed;
                try
                {
                    consumed = parser.Parse(result.Buffer, result.IsCompleted, events);
                }
                catch (InvalidDataException ex)
                {
                    WithholdEvent(http, ex.Message);
                    return; // the rest of this event cannot be inspected: end the stream (the client may resume it)
                }
                if (events.Count > 0)
                {
                    text.Clear();
                    foreach (var e in events)
                        AppendEvent(http, mcp, e, text, scrubber);
                    events.Clear();
                    if (text.Length > 0)
                    {
                        // A complete event: a secret cannot straddle what is scrubbed and what comes next.
                        var chunk = scrubber is null ? text.ToString() : scrubber.Scrub(text.ToString())!;
                        await output.WriteAsync(Encoding.UTF8.GetBytes(chunk), http.RequestAborted).ConfigureAwait(false);
                        await output.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                    }
                }
                if (result.IsCompleted)
                {
                    reader.AdvanceTo(result.Buffer.End);
                    break;
                }
                reader.AdvanceTo(consumed, result.Buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void AppendEvent(HttpContext http, McpActionInfo? mcp, SseEvent e, StringBuilder text, SecretScrubber? scrubber)
    {
        var data = e.Data;
        if (data is { Length: > 0 } && mcp is not null)
        {
            var inspection = mcpFilter.Inspect(http, scrubber is null ? data : scrubber.Scrub(data)!);
            if (inspection.Problem is { } problem)
            {
                WithholdEvent(http, problem);
                return;
            }
            data = inspection.Rewritten ?? data;
        }
        SseEventParser.Write(text, e, data);
    }

    /// <summary>An event that is not relayed: recorded (kind <c>mcp</c>, event <c>server_message_withheld</c>) and logged.</summary>
    private void WithholdEvent(HttpContext http, string problem)
    {
        var action = http.GetAction();
        Log.Withheld(logger, action.ActionId, action.RouteId ?? "none", problem);
        _ = recorder.RecordEventAsync(new PerimeterEvent("mcp", "server_message_withheld",
        [
            new("action_id", action.ActionId), new("route", action.RouteId), new("agent", action.AgentId),
            new("session", action.SessionId), new("work_type", action.WorkType), new("reason", problem),
        ]));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 140, Level = LogLevel.Warning, Message = "Withheld a server message on action {ActionId} (route {Route}): {Problem}")]
        public static partial void Withheld(ILogger logger, string actionId, string route, string problem);
    }
}
