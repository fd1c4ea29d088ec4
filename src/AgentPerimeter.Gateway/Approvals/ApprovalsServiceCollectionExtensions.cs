using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Approvals;

public static class ApprovalsServiceCollectionExtensions
{
    public static IServiceCollection AddPerimeterApprovals(this IServiceCollection services, ApprovalOptions options, string? redisKeyPrefix, TimeSpan redisTimeout)
    {
        services.AddSingleton(options);
        if (redisKeyPrefix is null)
            services.AddSingleton<IApprovalStore>(sp => new InMemoryApprovalStore(sp.GetRequiredService<TimeProvider>(), options));
        else
            services.AddSingleton<IApprovalStore>(sp => new RedisApprovalStore(sp.GetRequiredService<IConnectionMultiplexer>(),
                redisKeyPrefix, redisTimeout, sp.GetRequiredService<TimeProvider>(), options));
        return services;
    }
}
