namespace AgentPerimeter.Gateway.Secrets;

/// <summary>A secret's value as a source holds it now.</summary>
public readonly record struct SecretRead(string? Value, string? Error);
