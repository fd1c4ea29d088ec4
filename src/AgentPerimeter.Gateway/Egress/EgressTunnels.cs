using System.Collections.Concurrent;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Metrics;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The open egress tunnels and requests, so the kill switch reaches them: a watcher closes every one whose
/// session or agent is revoked (on any replica: revocations reach every replica's store within a second).
/// </summary>
internal sealed class EgressTunnels(IRevocationStore revocations, PerimeterMetrics metrics, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly ConcurrentDictionary<long, Open> _open = new();
    private long _next;

    public int Count => _open.Count;

    /// <summary>How many tunnels and requests this session holds open on this replica.</summary>
    public int CountFor(string sessionId) => _open.Values.Count(o => o.SessionId == sessionId);

    public Registration Add(string sessionId, string agentId, CancellationTokenSource cancel)
    {
        var id = Interlocked.Increment(ref _next);
        _open[id] = new Open(sessionId, agentId, cancel);
        metrics.EgressTunnels(_open.Count);
        return new Registration(this, id);
    }

    private void Remove(long id)
    {
        _open.TryRemove(id, out _);
        metrics.EgressTunnels(_open.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (var (_, open) in _open)
                {
                    if (!open.Cancel.IsCancellationRequested && revocations.IsRevoked(open.SessionId, open.AgentId))
                        open.Cancel.Cancel();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record Open(string SessionId, string AgentId, CancellationTokenSource Cancel);

    /// <summary>Removes the tunnel from the registry when disposed.</summary>
    public readonly struct Registration(EgressTunnels owner, long id) : IDisposable
    {
        public void Dispose() => owner.Remove(id);
    }
}
