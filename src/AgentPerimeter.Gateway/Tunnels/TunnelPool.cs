using System.Collections.Concurrent;
using System.Threading.Channels;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// The live connections of one tunnel, from every connector serving it. Idle connections wait in a
/// queue; each HTTP connection the forwarder opens claims the oldest one, so several connectors share
/// the load, and when one connector dies the others' connections serve the next requests.
/// </summary>
public sealed class TunnelPool(string name, Action<TunnelPool, string>? connectorLeft = null)
{
    private readonly Channel<TunnelConnection> _idle = Channel.CreateUnbounded<TunnelConnection>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentDictionary<string, int> _connectors = new(StringComparer.Ordinal);
    private int _live;

    public string Name { get; } = name;

    /// <summary>Connections open now (idle or carrying requests).</summary>
    public int LiveConnections => Volatile.Read(ref _live);

    /// <summary>Connector instances with at least one connection, and how many each has.</summary>
    public IReadOnlyDictionary<string, int> Connectors => _connectors.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => p.Value);

    internal Action<int>? LiveChanged { get; set; }

    /// <summary>Adds a connection to the pool; true when it is its connector's first.</summary>
    internal bool Add(TunnelConnection connection)
    {
        Interlocked.Increment(ref _live);
        int count = _connectors.AddOrUpdate(connection.ConnectorId, 1, static (_, n) => n + 1);
        LiveChanged?.Invoke(LiveConnections);
        connection.StartWatching();
        _idle.Writer.TryWrite(connection);
        return count == 1;
    }

    internal void Removed(TunnelConnection connection)
    {
        Interlocked.Decrement(ref _live);
        int count = _connectors.AddOrUpdate(connection.ConnectorId, 0, static (_, n) => n - 1);
        LiveChanged?.Invoke(LiveConnections);
        if (count == 0 && _connectors.TryRemove(new KeyValuePair<string, int>(connection.ConnectorId, 0)))
            connectorLeft?.Invoke(this, connection.ConnectorId);
    }

    /// <summary>
    /// Claims an idle connection, waiting up to <paramref name="wait"/> for a connector to open one when
    /// all are busy. Fails at once when no connector is connected at all.
    /// </summary>
    public async ValueTask<Stream> ClaimAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            while (_idle.Reader.TryRead(out var connection))
            {
                if (connection.TryClaim())
                    return connection;
            }
            if (LiveConnections == 0)
                throw new TunnelUnavailableException(Name, $"Tunnel '{Name}' has no connected connector.");
            var remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
                throw new TunnelUnavailableException(Name, $"Tunnel '{Name}' had no free connection within {wait.TotalSeconds:0.#} s (its connectors are busy).");
            // Wake on a new connection, or re-check liveness periodically (the last connector may leave).
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(Math.Min(remaining, 200)));
            try
            {
                await _idle.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }
}
