namespace AgentPerimeter.Gateway.Secrets;

/// <summary>HTTP feature: the secret values the secrets stage chose for this action, injected by the request transform.</summary>
internal sealed class SecretInjections(IReadOnlyList<PendingInjection> items)
{
    public IReadOnlyList<PendingInjection> Items { get; } = items;
}
