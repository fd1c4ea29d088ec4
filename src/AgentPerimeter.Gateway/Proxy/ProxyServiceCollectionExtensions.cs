namespace AgentPerimeter.Gateway.Proxy;

public static class ProxyServiceCollectionExtensions
{
    /// <summary>YARP from the <c>ReverseProxy</c> section (hot reload included) with the perimeter's transforms.</summary>
    public static IServiceCollection AddPerimeterProxy(this IServiceCollection services, IConfigurationSection reverseProxy)
    {
        services.AddSingleton<InspectingResponseTransform>();
        services.AddReverseProxy()
            .LoadFromConfig(reverseProxy)
            .AddTransforms<PerimeterTransformProvider>()
            .AddConfigFilter<DefaultActivityTimeoutFilter>();
        return services;
    }
}
