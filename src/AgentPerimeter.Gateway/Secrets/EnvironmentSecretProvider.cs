namespace AgentPerimeter.Gateway.Secrets;

/// <summary><c>{ "Kind": "env", "Name": "VARIABLE" }</c></summary>
public sealed class EnvironmentSecretProvider : ISecretProvider
{
    public string Kind => "env";

    public (string? Location, string? Error) Describe(IConfigurationSection source, string baseDirectory)
    {
        var name = source["Name"];
        return string.IsNullOrWhiteSpace(name)
            ? (null, "set Source:Name to the environment variable that holds the secret")
            : (name, null);
    }

    public SecretRead Read(string location)
    {
        var value = Environment.GetEnvironmentVariable(location);
        return string.IsNullOrEmpty(value) ? new SecretRead(null, $"environment variable '{location}' is not set or empty") : new SecretRead(value, null);
    }
}
