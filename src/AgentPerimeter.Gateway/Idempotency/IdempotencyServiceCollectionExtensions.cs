using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Idempotency;

public static class IdempotencyServiceCollectionExtensions
{
    public static IServiceCollection AddPerimeterIdempotency(this IServiceCollection services, IdempotencyOptions options, string? redisKeyPrefix, TimeSpan redisTimeout)
    {
        services.AddSingleton(options);
        if (redisKeyPrefix is null)
            services.AddSingleton<IIdempotencyStore>(sp => new InMemoryIdempotencyStore(sp.GetRequiredService<TimeProvider>()));
        else
            services.AddSingleton<IIdempotencyStore>(sp => new RedisIdempotencyStore(sp.GetRequiredService<IConnectionMultiplexer>(),
                redisKeyPrefix, redisTimeout, sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
