using System.Collections.Frozen;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>Where relative secret paths start, which source kinds exist, and whether to read values now.</summary>
public sealed record SecretLoadContext(string BaseDirectory, IReadOnlyList<ISecretProvider> Providers, bool ResolveValues = true)
{
    public static SecretLoadContext Default => new(Directory.GetCurrentDirectory(), [new EnvironmentSecretProvider(), new FileSecretProvider()]);
}
