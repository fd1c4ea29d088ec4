using System.Net.WebSockets;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// One connection a connector dialed out to the gateway: a WebSocket carrying one HTTP/1.1
/// connection from the gateway (client) to the connector (server), read and written as a byte stream.
/// While idle in its tunnel's pool a read is kept pending on it: the connector never speaks first, so
/// anything arriving on an idle connection means it closed, and it leaves the pool at once instead
/// of failing the next request. When claimed, that pending read becomes the stream's first read.
/// </summary>
internal sealed class TunnelConnection : Stream
{
    private const int Idle = 0, Claimed = 1, Closed = 2;

    private readonly WebSocket _socket;
    private readonly TunnelPool _pool;
    private readonly byte[] _first = new byte[16 * 1024];
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<ValueWebSocketReceiveResult>? _watch;
    private int _firstOffset, _firstCount;
    private int _state;
    private int _shutdown;

    public TunnelConnection(WebSocket socket, TunnelPool pool, string connectorId)
    {
        _socket = socket;
        _pool = pool;
        ConnectorId = connectorId;
    }

    public string ConnectorId { get; }

    /// <summary>Completes when the connection is closed by either side.</summary>
    public Task Completion => _closed.Task;

    public bool IsIdle => Volatile.Read(ref _state) == Idle;

    /// <summary>Starts watching the idle connection for its closure.</summary>
    internal void StartWatching()
    {
        _watch = _socket.ReceiveAsync(_first.AsMemory(), CancellationToken.None).AsTask();
        _watch.ContinueWith(static (t, state) =>
        {
            var self = (TunnelConnection)state!;
            _ = t.Exception; // observed: a reset while idle is the expected way for a connection to end
            self.CloseIfIdle();
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Still idle when the pending read completed: whatever completed it (close, reset, unexpected bytes) ends the connection.</summary>
    private void CloseIfIdle()
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Idle) == Idle)
            Shutdown();
    }

    /// <summary>Takes the connection out of the pool for one HTTP connection; false if it has closed meanwhile.</summary>
    internal bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Idle) == Idle;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_watch is { } watch)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                result = await watch.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsLoss(ex, cancellationToken))
            {
                throw new IOException("The tunnel connection was lost.", ex);
            }
            _watch = null;
            if (result.MessageType == WebSocketMessageType.Close)
                return 0;
            _firstOffset = 0;
            _firstCount = result.Count;
        }
        if (_firstCount > 0)
        {
            int n = Math.Min(buffer.Length, _firstCount);
            _first.AsMemory(_firstOffset, n).CopyTo(buffer);
            _firstOffset += n;
            _firstCount -= n;
            return n;
        }
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                    return 0;
                if (result.Count > 0 || buffer.Length == 0)
                    return result.Count;
                // An empty data frame is not the end of the stream.
            }
        }
        catch (Exception ex) when (IsLoss(ex, cancellationToken))
        {
            throw new IOException("The tunnel connection was lost.", ex);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.SendAsync(buffer, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsLoss(ex, cancellationToken))
        {
            throw new IOException("The tunnel connection was lost.", ex);
        }
    }

    /// <summary>A closed, aborted or reset WebSocket is a lost connection (IOException) to the HTTP client, not a cancellation.</summary>
    private static bool IsLoss(Exception ex, CancellationToken cancellationToken) =>
        ex is WebSocketException or ObjectDisposedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush() { }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Interlocked.Exchange(ref _state, Closed);
            Shutdown();
        }
        base.Dispose(disposing);
    }

    /// <summary>Closes the WebSocket (the connector's side sees its connection end) and leaves the pool.</summary>
    internal void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
            return;
        _socket.Abort();
        _socket.Dispose();
        _pool.Removed(this);
        _closed.TrySetResult();
    }
}
