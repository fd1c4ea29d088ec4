namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Where secret values live. Built in: <c>env</c> (an environment variable) and <c>file</c> (one file per
/// secret, as Kubernetes and Docker mount them; re-read when it changes). Register more kinds (a
/// vault, a cloud secret manager) as <see cref="ISecretProvider"/> services.
/// </summary>
public interface ISecretProvider
{
    /// <summary>The <c>Source:Kind</c> this provider serves.</summary>
    string Kind { get; }

    /// <summary>Checks a source's settings; returns its human-readable location (never the value) or an error.</summary>
    (string? Location, string? Error) Describe(IConfigurationSection source, string baseDirectory);

    /// <summary>Reads the current value. Called when the value is needed; cache as the source allows.</summary>
    SecretRead Read(string location);
}
