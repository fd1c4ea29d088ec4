using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using AgentPerimeter.Protocol.Tunnels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace AgentPerimeter.Connector;

/// <summary>
/// One dialed connection as Kestrel sees it: the WebSocket's bytes as a duplex pipe. Like Kestrel's
/// socket transport, the input is read continuously (bounded by the pipe's back-pressure), so a
/// connection the gateway closes mid-request (its client went away) aborts the request at once, and
/// the cancellation reaches the private server.
/// </summary>
internal sealed class TunnelConnectionContext : ConnectionContext
{
    private static long s_ids;
    private readonly WebSocketByteStream _stream;
    private readonly CancellationTokenSource _closed = new();
    private readonly Action<bool> _onClosed;
    private readonly Pipe _input = new(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
    private readonly Task _pump;
    private readonly Task _sender;
    private int _disposed;

    public TunnelConnectionContext(WebSocket socket, Action onFirstByte, Action<bool> onClosed)
    {
        _onClosed = onClosed;
        _stream = new WebSocketByteStream(socket, onFirstByte, SignalClosed);
        ConnectionId = "tunnel-" + Interlocked.Increment(ref s_ids);
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        _pump = Task.Run(PumpAsync);
        _sender = Task.Run(SendAsync);
    }

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }
    public override CancellationToken ConnectionClosed { get => _closed.Token; set { } }

    private async Task PumpAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _input.Writer.GetMemory(16 * 1024);
                int n = await _stream.ReadAsync(memory).ConfigureAwait(false);
                if (n == 0)
                    break;
                _input.Writer.Advance(n);
                var flush = await _input.Writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                    break;
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        SignalClosed();
        await _input.Writer.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends what Kestrel wrote, everything pending at once as one WebSocket frame (as Kestrel's socket
    /// transport coalesces its sends): fewer frames, masks and system calls per answer.
    /// </summary>
    private async Task SendAsync()
    {
        byte[]? scratch = null;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _output.Reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment)
                    {
                        await _stream.WriteAsync(buffer.First).ConfigureAwait(false);
                        break;
                    }
                    int n = (int)Math.Min(buffer.Length, 64 * 1024);
                    scratch ??= ArrayPool<byte>.Shared.Rent(64 * 1024);
                    buffer.Slice(0, n).CopyTo(scratch);
                    await _stream.WriteAsync(scratch.AsMemory(0, n)).ConfigureAwait(false);
                    buffer = buffer.Slice(n);
                }
                _output.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        catch (Exception ex)
        {
            error = ex;
            SignalClosed();
        }
        finally
        {
            if (scratch is not null)
                ArrayPool<byte>.Shared.Return(scratch);
            await _output.Reader.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private void SignalClosed()
    {
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _stream.Abort();
        SignalClosed();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await Transport.Output.CompleteAsync().ConfigureAwait(false);
        // Let the last answer leave before the connection goes (bounded: a dead peer cannot hold it).
        await _sender.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stream.Abort();
        await _pump.ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        _stream.Dispose();
        _onClosed(!_stream.HasReceivedData);
        _closed.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
