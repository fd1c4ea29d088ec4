using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;

namespace AgentPerimeter.Gateway.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>The audit log at <paramref name="path"/> and the one recorder every record goes through.</summary>
    public static IServiceCollection AddPerimeterAudit(this IServiceCollection services, string path)
    {
        services.AddSingleton(sp => new AuditLog(path, sp.GetRequiredService<ILogger<AuditLog>>(), sp.GetRequiredService<PerimeterMetrics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IActionRecorder, ActionRecorder>();
        return services;
    }
}
