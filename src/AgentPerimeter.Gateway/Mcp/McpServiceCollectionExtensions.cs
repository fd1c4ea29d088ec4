using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Mcp;

public static class McpServiceCollectionExtensions
{
    /// <summary>MCP inspection: tool pins (kept in <paramref name="pinsPath"/>), session bindings (Redis when shared), request inspection and response filtering.</summary>
    public static IServiceCollection AddPerimeterMcp(this IServiceCollection services, string pinsPath, string? redisKeyPrefix, TimeSpan redisTimeout)
    {
        services.AddSingleton(sp => new ToolPins(pinsPath, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ToolPins>>()));
        if (redisKeyPrefix is null)
            services.AddSingleton(new McpSessions());
        else
            services.AddSingleton(sp => new McpSessions(sp.GetRequiredService<IConnectionMultiplexer>(), redisKeyPrefix, redisTimeout));
        services.AddSingleton<McpRequestInspector>();
        services.AddSingleton<McpResponseFilter>();
        return services;
    }
}
