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
        _ = services.GetRequiredService<RateLimiting.IRevocationStore>();
        lifetime.ApplicationStarted.Register(() => Log.Listening(logger, listeners.AgentUri, listeners.AdminUri));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "AgentPerimeter gateway listening: agents {AgentUri}, admin {AdminUri}")]
        public static partial void Listening(ILogger logger, Uri agentUri, Uri adminUri);
    }
}
