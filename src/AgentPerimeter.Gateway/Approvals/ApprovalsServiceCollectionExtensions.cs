using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Approvals;

public static class ApprovalsServiceCollectionExtensions
{
    public static IServiceCollection AddPerimeterApprovals(this IServiceCollection services, string? redisKeyPrefix, TimeSpan redisTimeout)
    {
        services.AddSingleton<IValidateOptions<ApprovalOptions>, ApprovalOptionsValidator>();
        services.AddOptions<ApprovalOptions>().BindConfiguration("Gateway:Approvals").ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ApprovalOptions>>().Value);
        if (redisKeyPrefix is null)
            services.AddSingleton<IApprovalStore>(sp => new InMemoryApprovalStore(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ApprovalOptions>()));
        else
            services.AddSingleton<IApprovalStore>(sp => new RedisApprovalStore(sp.GetRequiredService<IConnectionMultiplexer>(),
                redisKeyPrefix, redisTimeout, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ApprovalOptions>()));
        return services;
    }
}
