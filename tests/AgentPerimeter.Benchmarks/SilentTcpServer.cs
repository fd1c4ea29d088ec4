using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The raw egress tunnels' destination, in the benchmark process: a TCP listener on 127.0.0.1 that accepts every
/// connection and holds it without sending or reading a byte, so a tunnel to it stays open and idle until its client
/// closes it. <see cref="CloseAccepted"/> drops what it holds.
/// </summary>
internal sealed class SilentTcpServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly ConcurrentQueue<Socket> _accepted = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _acceptedCount;

    public SilentTcpServer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        // A backlog above the idle tunnels' openers, so a burst of CONNECTs never waits for the accept loop.
        _listener.Listen(1024);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>Connections accepted since the start.</summary>
    public long Accepted => Interlocked.Read(ref _acceptedCount);

    /// <summary>Connections accepted and still held.</summary>
    public int Held => _accepted.Count;

    /// <summary>
    /// Waits until at least <paramref name="count"/> connections are held, or <paramref name="timeout"/> passes: a client's
    /// connect completes before the accept loop takes the connection, and one closed before it is taken would be held for good.
    /// </summary>
    public async Task<bool> WaitUntilHeldAsync(int count, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Held < count)
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(20), ct).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Closes every connection held; the listener keeps accepting.</summary>
    public void CloseAccepted()
    {
        while (_accepted.TryDequeue(out var socket))
            socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        CloseAccepted();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            _accepted.Enqueue(socket);
            Interlocked.Increment(ref _acceptedCount);
        }
    }
}
