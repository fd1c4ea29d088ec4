using System.Buffers;
using System.IO.Pipelines;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Protocol.Refusals;
using Microsoft.AspNetCore.Connections;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Per connection: the framing problems <see cref="Http1FramingScanner"/> saw, by request index, and
/// the index of the request the pipeline is on. Set on the connection's features, so every request
/// on it sees the same instance.
/// </summary>
internal sealed class RequestFramingFeature
{
    private readonly Lock _gate = new();
    private Dictionary<long, string>? _problems;
    private long _nextRequest;
    private Http1FramingScanner? _scanner;

    public void Report(long request, string problem)
    {
        lock (_gate)
            (_problems ??= [])[request] = problem;
    }

    /// <summary>
    /// Called once per request, in order, by the first middleware every request of the connection passes
    /// (so a request answered early still takes its index): the problem with this request's framing, if any.
    /// Once the scan has stopped other than for HTTP/2, no later request is trusted.
    /// </summary>
    public string? NextRequest()
    {
        lock (_gate)
        {
            long index = _nextRequest++;
            if (_problems is not null && _problems.Remove(index, out var problem))
                return problem;
            return _scanner?.StoppedAt is { } stoppedAt && index >= stoppedAt
                ? "the connection's message framing could not be followed past an earlier request"
                : null;
        }
    }

    /// <summary>The connection middleware: observes the plaintext bytes (after TLS) Kestrel parses.</summary>
    public static ConnectionDelegate Observe(ConnectionDelegate next) => connection =>
    {
        var feature = new RequestFramingFeature();
        var scanner = new Http1FramingScanner(feature.Report);
        feature._scanner = scanner;
        connection.Features.Set(feature);
        var transport = connection.Transport;
        connection.Transport = new ObservedPipe(new ObservingReader(transport.Input, scanner), transport.Output);
        return next(connection);
    };

    private sealed class ObservedPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>Hands Kestrel exactly the bytes it would have read, scanning each byte once as it first appears.</summary>
    private sealed class ObservingReader(PipeReader inner, Http1FramingScanner scanner) : PipeReader
    {
        private ReadOnlySequence<byte> _last;
        private long _consumed;   // stream offset of the first byte not yet consumed
        private long _scanned;    // stream offset of the first byte not yet scanned

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var pending = inner.ReadAsync(cancellationToken);
            if (!pending.IsCompletedSuccessfully)
                return ObserveLaterAsync(pending);
            var result = pending.Result; // completed: no state machine on the common path
            Observe(result.Buffer);
            return new ValueTask<ReadResult>(result);
        }

        private async ValueTask<ReadResult> ObserveLaterAsync(ValueTask<ReadResult> pending)
        {
            var result = await pending.ConfigureAwait(false);
            Observe(result.Buffer);
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
                return false;
            Observe(result.Buffer);
            return true;
        }

        private void Observe(in ReadOnlySequence<byte> buffer)
        {
            _last = buffer;
            if (scanner.Stopped)
                return;
            long end = _consumed + buffer.Length;
            if (end > _scanned)
            {
                scanner.Scan(buffer.Slice(_scanned - _consumed));
                _scanned = end;
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _consumed += _last.Slice(_last.Start, consumed).Length;
            _last = default;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}

/// <summary>The framing problem of this request, taken (with its index) before anything else ran.</summary>
internal sealed record RequestFramingVerdict(string Problem);

/// <summary>
/// First on the governed listeners, before even the action opens: takes this request's index on its
/// connection (every request passes here, so an early answer elsewhere cannot shift the count) and keeps
/// the scanner's verdict for <see cref="RequestFramingGuardMiddleware"/>.
/// </summary>
internal sealed class RequestFramingIndexMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<RequestFramingFeature>() is { } framing
            && context.Request.Protocol is "HTTP/1.1" or "HTTP/1.0"
            && framing.NextRequest() is { } problem)
        {
            context.Features.Set(new RequestFramingVerdict(problem));
            context.Response.Headers.Connection = "close"; // whatever answers, the connection ends with it
        }
        return next(context);
    }
}

/// <summary>
/// Refuses (400 <c>ambiguous_framing</c>, audited, connection closed) a request whose body framing
/// Kestrel accepted but a proxy must not forward: see <see cref="Http1FramingScanner"/>. Runs first after
/// the action opens, so no token or policy is consulted for a request that may be two requests.
/// </summary>
internal sealed class RequestFramingGuardMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<RequestFramingVerdict>() is not { } verdict)
            return next(context);
        context.Response.Headers.Connection = "close"; // what follows on this connection cannot be trusted
        return ActionResponses.RefuseAsync(context, StatusCodes.Status400BadRequest,
            new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.AmbiguousFraming, null,
                $"The request body is framed ambiguously ({verdict.Problem}); send one framing: a plain Content-Length or Transfer-Encoding: chunked."));
    }
}
