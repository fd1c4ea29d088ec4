namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// Lame duck on SIGTERM: the moment the host is asked to stop, <c>/readyz</c> answers 503
/// (<c>"status":"stopping"</c>) while the gateway keeps serving for <c>Gateway:ShutdownDrainDelay</c>,
/// so a load balancer takes it out of rotation before it stops taking connections; then Kestrel stops
/// accepting and lets in-flight actions finish within <c>Gateway:ShutdownTimeout</c>. The delay runs in
/// the host's <c>ApplicationStopping</c> notification, which comes before any service (the web server
/// included) is stopped.
/// </summary>
public sealed class ShutdownDrain(TimeSpan delay, IHostApplicationLifetime lifetime) : IHostedService, Actions.IShutdownSignal, IDisposable
{
    private readonly CancellationTokenSource _drained = new();
    private volatile bool _stopping;
    private CancellationTokenRegistration _registration;

    public bool Stopping => _stopping;

    /// <summary>Cancelled when the drain delay is over: long-lived connections (connector tunnels) close then, not before.</summary>
    public CancellationToken Drained => _drained.Token;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(() =>
        {
            _stopping = true;
            if (delay > TimeSpan.Zero)
                Thread.Sleep(delay); // bounded (at most 5 minutes, validated); the server serves meanwhile
            _drained.Cancel();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();
        _drained.Cancel(); // stopped without ApplicationStopping (tests): close what waits on it
        return Task.CompletedTask;
    }

    public void Dispose() => _drained.Dispose();
}
