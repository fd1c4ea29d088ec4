using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Egress;

public static class EgressServiceCollectionExtensions
{
    /// <summary>The egress section of the policy, and — when an egress listener is configured — the proxy and the watcher that closes revoked sessions' tunnels.</summary>
    public static IServiceCollection AddPerimeterEgress(this IServiceCollection services, EgressOptions options, string caCertificatePath, string caKeyPath)
    {
        services.AddSingleton(sp => new EgressCertificateAuthority(caCertificatePath, caKeyPath, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<InspectingTunnel>();
        services.AddSingleton<IPolicySectionLoader, EgressPolicySection>();
        services.AddSingleton(options);
        services.AddSingleton<EgressProxyAuth>();
        services.AddSingleton<EgressTunnels>();
        services.AddHostedService(sp => sp.GetRequiredService<EgressTunnels>());
        return services;
    }

    /// <summary>The egress section loader, for validating a policy without a running gateway.</summary>
    public static IPolicySectionLoader PolicySection() => new EgressPolicySection();
}
