using System.Net.WebSockets;
using AgentPerimeter.Protocol.Tunnels;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// One connection a connector dialed out to the gateway: a WebSocket carrying one HTTP/1.1
/// connection from the gateway (client) to the connector (server), read and written as a byte stream.
/// While idle in its tunnel's pool a read is kept pending on it: the connector never speaks first, so
/// anything arriving on an idle connection means it closed, and it leaves the pool at once instead
/// of failing the next request. When claimed, that pending read becomes the stream's first read.
/// </summary>
internal sealed class TunnelConnection(WebSocket socket, TunnelPool pool, string connectorId) : WebSocketByteStream(socket)
{
    private const int Idle = 0, Claimed = 1, Closed = 2;

    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private int _shutdown;

    public string ConnectorId { get; } = connectorId;

    /// <summary>Completes when the connection is closed by either side.</summary>
    public Task Completion => _closed.Task;

    public bool IsIdle => Volatile.Read(ref _state) == Idle;

    /// <summary>Starts watching the idle connection for its closure.</summary>
    internal void StartWatching() =>
        StartReadAhead().ContinueWith(static (_, state) => ((TunnelConnection)state!).CloseIfIdle(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Still idle when the pending read completed: whatever completed it (close, reset, unexpected bytes) ends the connection.</summary>
    private void CloseIfIdle()
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Idle) == Idle)
            Shutdown();
    }

    /// <summary>Takes the connection out of the pool for one HTTP connection; false if it has closed meanwhile.</summary>
    internal bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Idle) == Idle;

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
        Abort();
        pool.Removed(this);
        _closed.TrySetResult();
    }
}
