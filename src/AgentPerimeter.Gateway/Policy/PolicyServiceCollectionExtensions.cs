namespace AgentPerimeter.Gateway.Policy;

public static class PolicyServiceCollectionExtensions
{
    /// <summary>The running policy (with every feature's section) and its hot reload.</summary>
    public static IServiceCollection AddPerimeterPolicy(this IServiceCollection services)
    {
        services.AddSingleton<PolicyStore>();
        return services;
    }
}
