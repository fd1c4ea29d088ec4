using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// The audit log (paths in <paramref name="options"/> already resolved), its checkpoints (to the
    /// checkpoint file, and to Redis when <paramref name="redisKeyPrefix"/> is set), and the one recorder
    /// every record goes through.
    /// </summary>
    public static IServiceCollection AddPerimeterAudit(this IServiceCollection services, AuditOptions options, string? redisKeyPrefix)
    {
        services.AddSingleton(options);
        services.AddSingleton<IAuditCheckpointSink>(sp => new FileCheckpointSink(options.CheckpointPath, sp.GetRequiredService<ILogger<FileCheckpointSink>>()));
        if (redisKeyPrefix is not null)
        {
            // One chain per replica: the instance names it (host name and the active file).
            var instance = $"{Environment.MachineName}:{Path.GetFileName(options.Path)}";
            services.AddSingleton<IAuditCheckpointSink>(sp => new RedisCheckpointSink(sp.GetRequiredService<IConnectionMultiplexer>(), redisKeyPrefix, instance));
        }
        services.AddSingleton(sp => new AuditCheckpoints(options, sp.GetRequiredService<TimeProvider>(), sp.GetServices<IAuditCheckpointSink>()));
        services.AddSingleton(sp => new AuditLog(options, sp.GetRequiredService<ILogger<AuditLog>>(), sp.GetRequiredService<PerimeterMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<AuditCheckpoints>()));
        services.AddSingleton<ActionRecorder>();
        services.AddSingleton<IActionRecorder>(sp => sp.GetRequiredService<ActionRecorder>());
        return services;
    }
}
