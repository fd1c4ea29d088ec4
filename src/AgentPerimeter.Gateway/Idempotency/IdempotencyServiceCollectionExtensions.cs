using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Idempotency;

public static class IdempotencyServiceCollectionExtensions
{
    public static IServiceCollection AddPerimeterIdempotency(this IServiceCollection services, string? redisKeyPrefix, TimeSpan redisTimeout)
    {
        // Bound from its own section and validated when the host starts (and by the startup check, with every other feature's errors).
        services.AddSingleton<IValidateOptions<IdempotencyOptions>, IdempotencyOptionsValidator>();
        services.AddOptions<IdempotencyOptions>().BindConfiguration("Gateway:Idempotency").ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<IdempotencyOptions>>().Value);
        if (redisKeyPrefix is null)
            services.AddSingleton<IIdempotencyStore>(sp => new InMemoryIdempotencyStore(sp.GetRequiredService<TimeProvider>()));
        else
            services.AddSingleton<IIdempotencyStore>(sp => new RedisIdempotencyStore(sp.GetRequiredService<IConnectionMultiplexer>(),
                redisKeyPrefix, redisTimeout, sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
