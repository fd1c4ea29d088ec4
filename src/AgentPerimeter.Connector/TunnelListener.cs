using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace AgentPerimeter.Connector;

/// <summary>The tunnel endpoint's listener: one <see cref="TunnelDialer"/> per gateway, whose connections Kestrel accepts.</summary>
internal sealed class TunnelListener(TunnelEndPoint endpoint, ConnectorState state, ILogger logger) : IConnectionListener
{
    private readonly Channel<ConnectionContext> _accepted = Channel.CreateUnbounded<ConnectionContext>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _dialers = [];
    private int _refusedGateways;

    public EndPoint EndPoint => endpoint;

    public void Start()
    {
        var stopping = _stopping.Token;
        foreach (var gateway in endpoint.Options.Gateways)
        {
            var dialer = new TunnelDialer(endpoint.Options, gateway, state, logger, _accepted.Writer, OnRefused);
            _dialers.Add(Task.Run(() => dialer.RunAsync(stopping)));
        }
    }

    /// <summary>
    /// One replica refusing (a config rollout in progress) must not take the others down: the connector
    /// gives up only when every gateway it serves has refused it.
    /// </summary>
    private void OnRefused(ConnectorRefusedException refused)
    {
        state.Refusal ??= refused;
        if (Interlocked.Increment(ref _refusedGateways) == endpoint.Options.Gateways.Count)
            state.Stop?.Invoke();
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _stopping.Cancel();
        _accepted.Writer.TryComplete();
        try
        {
            // The dialers stop at once; a host disposed without stopping passes an already-cancelled token.
            await Task.WhenAll(_dialers).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
