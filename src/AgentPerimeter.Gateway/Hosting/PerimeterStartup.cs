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
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var policy = services.GetRequiredService<PolicyStore>();
        _ = services.GetRequiredService<SigningKeys>();
        // Egress actions have their own route: with an egress listener, its alert series exist at zero too.
        var options = services.GetRequiredService<GatewayOptions>();
        if (options.Listeners.Egress is not null || options.Egress.UnixSocket is not null)
            services.GetRequiredService<Metrics.PerimeterMetrics>().Prime(
                policy.Current.WorkTypes.Keys.Select(w => (w, Egress.EgressConnectionHandler.RouteId, "egress")));
        _ = services.GetRequiredService<AuditLog>();
        _ = services.GetRequiredService<RateLimiting.IRateLimitStore>();
        _ = services.GetRequiredService<IRevocationStore>();
        _ = services.GetRequiredService<Tunnels.TunnelRegistry>();
        await RecoverInFlightAsync().ConfigureAwait(false);
        lifetime.ApplicationStarted.Register(() =>
        {
            Log.Listening(logger, listeners.AgentUri, listeners.AdminUri);
            if (listeners.TunnelUri is { } tunnel)
                Log.TunnelListening(logger, tunnel);
            if (listeners.InboundUri is { } inbound)
                Log.InboundListening(logger, inbound);
            if (listeners.EgressUri is not null || listeners.EgressSocket is not null)
                Log.EgressListening(logger, listeners.EgressUri?.ToString() ?? "-", listeners.EgressSocket ?? "-");
        });
    }

    /// <summary>
    /// Actions the previous run left in flight get an <c>outcome_unknown</c> record; their idempotency keys
    /// become "outcome unknown" too, so a retry with the same key is never executed a second time.
    /// </summary>
    private async Task RecoverInFlightAsync()
    {
        IReadOnlyList<UnknownOutcome> unknown;
        try
        {
            unknown = await services.GetRequiredService<ActionRecorder>().RecoverAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            // The log cannot be read or written: actions are refused until it can (readiness says so).
            Log.RecoveryFailed(logger, ex.GetType().Name, ex.Message);
            return;
        }
        if (unknown.Count == 0)
            return;
        Log.Recovered(logger, unknown.Count);
        var store = services.GetRequiredService<Idempotency.IIdempotencyStore>();
        var window = services.GetRequiredService<Idempotency.IdempotencyOptions>().Window;
        foreach (var action in unknown)
        {
            if (action.IdempotencyScope is not { } scope || action.IdempotencyFingerprint is not { } fingerprint)
                continue;
            try
            {
                await store.CompleteAsync(scope, fingerprint, new Idempotency.StoredOutcome { Kind = "unknown", ActionId = action.ActionId }, window).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
            {
                Log.RecoveryFailed(logger, ex.GetType().Name, ex.Message);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Sandbox egress proxy on {EgressUri} (Unix socket {EgressSocket})")]
        public static partial void EgressListening(ILogger logger, string egressUri, string egressSocket);

        [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{Count} action(s) were in flight when the gateway last stopped; recorded as outcome_unknown")]
        public static partial void Recovered(ILogger logger, int count);

        [LoggerMessage(EventId = 14, Level = LogLevel.Error, Message = "Actions left in flight by the last run could not be recovered ({ErrorType}: {Error})")]
        public static partial void RecoveryFailed(ILogger logger, string errorType, string error);

        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "AgentPerimeter gateway listening: agents {AgentUri}, admin {AdminUri}")]
        public static partial void Listening(ILogger logger, Uri agentUri, Uri adminUri);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Connectors dial {TunnelUri}tunnels/NAME")]
        public static partial void TunnelListening(ILogger logger, Uri tunnelUri);

        [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Inbound tunnel termination (mutual TLS) on {InboundUri}")]
        public static partial void InboundListening(ILogger logger, Uri inboundUri);
    }
}
