using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// Builds the perimeter's singletons when the host starts rather than on the first action, so a
/// missing key is created, the audit log opened and the policy compiled before any agent connects,
/// and says where the listeners are once they are bound.
/// </summary>
internal sealed partial class PerimeterStartup(
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    PerimeterListeners listeners,
    ILogger<PerimeterStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<PolicyStore>();
        _ = services.GetRequiredService<SigningKeys>();
        _ = services.GetRequiredService<AuditLog>();
        _ = services.GetRequiredService<RateLimiting.IRateLimitStore>();
        _ = services.GetRequiredService<IRevocationStore>();
        _ = services.GetRequiredService<Tunnels.TunnelRegistry>();
        lifetime.ApplicationStarted.Register(() =>
        {
            Log.Listening(logger, listeners.AgentUri, listeners.AdminUri);
            if (listeners.TunnelUri is { } tunnel)
                Log.TunnelListening(logger, tunnel);
            if (listeners.InboundUri is { } inbound)
                Log.InboundListening(logger, inbound);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "AgentPerimeter gateway listening: agents {AgentUri}, admin {AdminUri}")]
        public static partial void Listening(ILogger logger, Uri agentUri, Uri adminUri);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Connectors dial {TunnelUri}tunnels/NAME")]
        public static partial void TunnelListening(ILogger logger, Uri tunnelUri);

        [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Inbound tunnel termination (mutual TLS) on {InboundUri}")]
        public static partial void InboundListening(ILogger logger, Uri inboundUri);
    }
}
