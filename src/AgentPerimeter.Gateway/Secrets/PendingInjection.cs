namespace AgentPerimeter.Gateway.Secrets;

/// <summary>A secret value chosen for one action, injected by the transform at the last moment.</summary>
internal sealed record PendingInjection(SecretBinding Binding, string Value);
