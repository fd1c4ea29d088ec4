using System.Net.WebSockets;

namespace AgentPerimeter.Protocol.Tunnels;

/// <summary>
/// A WebSocket read and written as one byte stream, on both ends of a tunnel connection: each write is
/// one binary message, and message boundaries carry no meaning to the reader.
/// </summary>
/// <remarks>
/// <para>
/// Not .NET's <see cref="WebSocketStream"/>, whose semantics differ where the tunnel needs them: it
/// cannot keep a read pending on an idle connection that a later reader takes over
/// (<see cref="StartReadAhead"/>); once the socket is closed or aborted it throws
/// <see cref="NotSupportedException"/> (and <see cref="WebSocketException"/> or
/// <see cref="OperationCanceledException"/> on loss) where an HTTP client or server expects an
/// <see cref="IOException"/>; it does not keep answering end-of-stream after the close frame; and
/// disposing it either leaves the socket open or waits for a close handshake, where a tunnel end aborts
/// at once so a dead peer cannot hold it.
/// </para>
/// <para>
/// Here: end of stream (0) from the peer's close frame on; a closed, aborted or reset socket is an
/// <see cref="IOException"/> (a cancellation only when the caller's token asked for one); dispose
/// disposes the socket.
/// </para>
/// </remarks>
public class WebSocketByteStream : Stream
{
    private const int ReadAheadSize = 16 * 1024;

    private readonly WebSocket _socket;
    private readonly Action? _dataStarted;
    private readonly Action? _ended;
    private Task<ValueWebSocketReceiveResult>? _readAhead;
    private byte[]? _aheadBuffer;
    private int _aheadOffset, _aheadCount;
    private int _sawData, _endSignalled;
    private bool _endOfStream;

    /// <summary>Wraps <paramref name="socket"/>, which the stream then owns.</summary>
    /// <param name="socket">An open WebSocket.</param>
    /// <param name="dataStarted">Called once, when the first data byte is read.</param>
    /// <param name="ended">Called once, when a read or write finds the connection closed or lost.</param>
    public WebSocketByteStream(WebSocket socket, Action? dataStarted = null, Action? ended = null)
    {
        _socket = socket;
        _dataStarted = dataStarted;
        _ended = ended;
    }

    /// <summary>True once any data byte has been read.</summary>
    public bool HasReceivedData => Volatile.Read(ref _sawData) == 1;

    /// <summary>
    /// Starts a read now and keeps it pending: on an idle connection whose peer never speaks first, its
    /// completion means the peer closed or broke the connection. The next <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>
    /// returns what it read first. The returned task completes (never faults) when the read does.
    /// </summary>
    public Task StartReadAhead()
    {
        if (_readAhead is not null)
            throw new InvalidOperationException("A read-ahead is already pending.");
        _aheadBuffer = new byte[ReadAheadSize];
        _readAhead = _socket.ReceiveAsync(_aheadBuffer.AsMemory(), CancellationToken.None).AsTask();
        // Observed here: a reset while idle is an expected way for a connection to end.
        return _readAhead.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Ends the connection at once, without a close handshake (the peer sees it reset), and releases the
    /// WebSocket: pending and later reads and writes fail.
    /// </summary>
    public void Abort()
    {
        _socket.Abort();
        _socket.Dispose();
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_endOfStream)
            return 0;
        try
        {
            if (_readAhead is { } ahead)
            {
                var first = await ahead.WaitAsync(cancellationToken).ConfigureAwait(false);
                _readAhead = null;
                if (first.Count == 0)
                    _aheadBuffer = null;
                if (first.MessageType == WebSocketMessageType.Close)
                    return EndOfStream();
                _aheadOffset = 0;
                _aheadCount = first.Count;
            }
            if (_aheadCount > 0)
            {
                int n = Math.Min(buffer.Length, _aheadCount);
                _aheadBuffer.AsMemory(_aheadOffset, n).CopyTo(buffer);
                _aheadOffset += n;
                _aheadCount -= n;
                if (_aheadCount == 0)
                    _aheadBuffer = null; // a long-lived connection does not keep the read-ahead buffer
                return Received(n);
            }
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                    return EndOfStream();
                if (result.Count > 0 || buffer.Length == 0)
                    return Received(result.Count);
                // An empty data frame is not the end of the stream.
            }
        }
        catch (Exception ex) when (IsLoss(ex, cancellationToken))
        {
            throw Lost(ex);
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.SendAsync(buffer, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsLoss(ex, cancellationToken))
        {
            throw Lost(ex);
        }
    }

    private int Received(int count)
    {
        if (count > 0 && Interlocked.Exchange(ref _sawData, 1) == 0)
            _dataStarted?.Invoke();
        return count;
    }

    private int EndOfStream()
    {
        _endOfStream = true;
        SignalEnd();
        return 0;
    }

    private IOException Lost(Exception ex)
    {
        SignalEnd();
        return new IOException("The tunnel connection was lost.", ex);
    }

    private void SignalEnd()
    {
        if (Interlocked.Exchange(ref _endSignalled, 1) == 0)
            _ended?.Invoke();
    }

    /// <summary>A closed, aborted or reset WebSocket is a lost connection, not a cancellation the caller asked for.</summary>
    private static bool IsLoss(Exception ex, CancellationToken cancellationToken) =>
        ex is WebSocketException or ObjectDisposedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    /// <summary>Nothing is buffered: each write is sent as it is made.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing is buffered: each write is sent as it is made.</summary>
    public override void Flush() { }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Disposes the WebSocket (without a close handshake).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _socket.Dispose();
        base.Dispose(disposing);
    }
}
