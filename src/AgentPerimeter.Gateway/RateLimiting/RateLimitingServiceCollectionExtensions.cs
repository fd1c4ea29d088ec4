using AgentPerimeter.Gateway.Policy;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.RateLimiting;

public static class RateLimitingServiceCollectionExtensions
{
    /// <summary>The limits section of the policy and the limit store: Redis when a connection string is given, else memory.</summary>
    public static IServiceCollection AddPerimeterRateLimiting(this IServiceCollection services, string? redisKeyPrefix, TimeSpan redisTimeout)
    {
        services.AddSingleton<IPolicySectionLoader, LimitsPolicySection>();
        if (redisKeyPrefix is null)
            services.AddSingleton<IRateLimitStore>(sp => new InMemoryRateLimitStore(sp.GetRequiredService<TimeProvider>()));
        else
            services.AddSingleton<IRateLimitStore>(sp => new RedisRateLimitStore(sp.GetRequiredService<IConnectionMultiplexer>(),
                redisTimeout, redisKeyPrefix, sp.GetRequiredService<ILogger<RedisRateLimitStore>>()));
        return services;
    }

    /// <summary>The limits section loader, for validating a policy without a running gateway.</summary>
    public static IPolicySectionLoader PolicySection() => new LimitsPolicySection();
}
