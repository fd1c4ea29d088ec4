using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>Secret sources, the scrubber, the policy's secrets section (relative files start in <paramref name="configDirectory"/>) and the injection transform.</summary>
    public static IServiceCollection AddPerimeterSecrets(this IServiceCollection services, string configDirectory)
    {
        services.AddSingleton<SecretScrubber>();
        services.AddSingleton<SecretStats>();
        services.AddSingleton<ISecretProvider, EnvironmentSecretProvider>();
        services.AddSingleton<ISecretProvider, FileSecretProvider>();
        services.AddSingleton<IPolicySectionLoader>(sp => new SecretsPolicySection(
            new SecretLoadContext(configDirectory, [.. sp.GetServices<ISecretProvider>()]), sp.GetRequiredService<SecretScrubber>()));
        services.AddSingleton<SecretInjectionTransform>();
        return services;
    }

    /// <summary>The section loaders <c>perimeter check</c> and tests use to validate a policy without a running gateway.</summary>
    public static IPolicySectionLoader PolicySection(SecretLoadContext context) => new SecretsPolicySection(context);
}
