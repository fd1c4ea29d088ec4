namespace AgentPerimeter.Gateway.Tunnels;

public static class TunnelsServiceCollectionExtensions
{
    /// <summary>Reverse tunnels: the registry of connector connections, and the forwarder's client factory that sends <c>tunnel://NAME</c> over them.</summary>
    public static IServiceCollection AddPerimeterTunnels(this IServiceCollection services, DeclaredTunnels tunnels, InboundOptions inbound)
    {
        services.AddSingleton(tunnels);
        services.AddSingleton(inbound);
        services.AddSingleton<TunnelRegistry>();
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, TunnelForwarderHttpClientFactory>();
        return services;
    }
}
