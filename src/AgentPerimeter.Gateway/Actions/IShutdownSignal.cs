namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The gateway's stop, as features need it: <see cref="Stopping"/> from the moment SIGTERM arrives
/// (readiness fails), <see cref="Drained"/> once the drain delay is over and the gateway stops taking
/// connections — when long-lived connections (connector tunnels) should be closed.
/// </summary>
public interface IShutdownSignal
{
    bool Stopping { get; }

    CancellationToken Drained { get; }
}
