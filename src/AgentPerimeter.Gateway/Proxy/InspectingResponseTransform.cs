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
internal sealed class InspectingResponseTransform(SecretScrubber scrubber, McpResponseFilter mcpFilter) : ResponseTransform
{
    private const long SmallBody = 64 * 1024;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
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

        // A compressed body cannot be inspected or scrubbed (the request asked for none): refuse to relay it.
        if (upstream.Content.Headers.ContentEncoding.Any(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase)))
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
        else if (mcp?.ListKind is not null && string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            context.SuppressResponseBody = true;
            var body = await upstream.Content.ReadAsByteArrayAsync(http.RequestAborted).ConfigureAwait(false);
            if (scrub)
                body = Encoding.UTF8.GetBytes(scrubber.Scrub(Encoding.UTF8.GetString(body))!); // before re-serializing escapes it
            var filtered = mcpFilter.Filter(http, mcp, body);
            if (scrub)
                filtered = Encoding.UTF8.GetBytes(scrubber.Scrub(Encoding.UTF8.GetString(filtered))!);
            http.Response.Headers.ContentLength = filtered.Length;
            await http.Response.Body.WriteAsync(filtered, http.RequestAborted).ConfigureAwait(false);
        }
        else if (scrub && upstream.Content.Headers.ContentLength is { } length && length <= SmallBody)
        {
            // A small body of known length: scrub it whole and keep it a plain Content-Length answer.
            context.SuppressResponseBody = true;
            var body = await upstream.Content.ReadAsByteArrayAsync(http.RequestAborted).ConfigureAwait(false);
            var output = new System.Buffers.ArrayBufferWriter<byte>(body.Length + 16);
            scrubber.ScrubChunk(body, final: true, output);
            http.Response.Headers.ContentLength = output.WrittenCount;
            await http.Response.Body.WriteAsync(output.WrittenMemory, http.RequestAborted).ConfigureAwait(false);
        }
        else if (scrub)
        {
            context.SuppressResponseBody = true;
            http.Response.Headers.ContentLength = null;
            await CopyScrubbedAsync(http, upstream, scrubber).ConfigureAwait(false);
        }
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

    private async Task RelaySseAsync(HttpContext http, McpActionInfo? mcp, HttpResponseMessage upstream, SecretScrubber? scrubber)
    {
        var stream = await upstream.Content.ReadAsStreamAsync(http.RequestAborted).ConfigureAwait(false);
        var reader = PipeReader.Create(stream);
        var output = http.Response.Body;
        var eventLines = new List<string>();
        string? pendingTail = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(http.RequestAborted).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    if (line.Length > 0)
                    {
                        eventLines.Add(line);
                        continue;
                    }
                    // A blank line ends the event: inspect it, then pass it on at once.
                    await WriteEventAsync(http, mcp, output, eventLines, scrubber).ConfigureAwait(false);
                    eventLines.Clear();
                }
                if (result.IsCompleted)
                {
                    // A last line the server did not end with a newline is still part of the stream.
                    pendingTail = buffer.Length > 0 ? Encoding.UTF8.GetString(buffer).TrimEnd('\r') : null;
                    reader.AdvanceTo(buffer.End);
                    break;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (pendingTail is { Length: > 0 } tail)
                eventLines.Add(tail);
            if (eventLines.Count > 0)
                await WriteEventAsync(http, mcp, output, eventLines, scrubber).ConfigureAwait(false);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteEventAsync(HttpContext http, McpActionInfo? mcp, Stream output, List<string> lines, SecretScrubber? scrubber)
    {
        var data = new StringBuilder();
        foreach (var line in lines)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
                data.Append(data.Length > 0 ? "\n" : "").Append(line.AsSpan(line.Length > 5 && line[5] == ' ' ? 6 : 5));
        }

        string? rewritten = null;
        if (data.Length > 0 && mcp is not null)
            rewritten = mcpFilter.InspectServerMessage(http, mcp, scrubber is null ? data.ToString() : scrubber.Scrub(data.ToString())!);

        var sb = new StringBuilder();
        foreach (var line in lines)
        {
            if (rewritten is not null && line.StartsWith("data:", StringComparison.Ordinal))
                continue;
            sb.Append(line).Append('\n');
        }
        if (rewritten is not null)
            sb.Append("data: ").Append(rewritten).Append('\n');
        sb.Append('\n');
        // An event is complete here, so a secret cannot straddle what is scrubbed and what comes next.
        var text = scrubber is null ? sb.ToString() : scrubber.Scrub(sb.ToString())!;
        await output.WriteAsync(Encoding.UTF8.GetBytes(text), http.RequestAborted).ConfigureAwait(false);
        await output.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out string line)
    {
        var position = buffer.PositionOf((byte)'\n');
        if (position is null)
        {
            line = "";
            return false;
        }
        var slice = buffer.Slice(0, position.Value);
        line = Encoding.UTF8.GetString(slice).TrimEnd('\r');
        buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
        return true;
    }
}
