namespace AgentPerimeter.Protocol.Hosting;

/// <summary>
/// The gateway program as other programs run it: <c>perimeter check</c> runs
/// <c>dotnet AgentPerimeter.Gateway.dll --check --config-dir DIR --policy FILE [--routes FILE]</c>, and
/// <c>perimeter demo</c> runs it as a child process and reads where it listens from its log
/// (<see cref="GatewayListeningEvent"/>).
/// </summary>
public static class GatewayCommandLine
{
    /// <summary>The gateway's assembly (<c>AgentPerimeter.Gateway.dll</c>, run with <c>dotnet</c>).</summary>
    public const string AssemblyName = "AgentPerimeter.Gateway";

    /// <summary>Validate the configuration files as startup would, print the result, exit; start nothing.</summary>
    public const string Check = "--check";

    /// <summary>The directory of <c>gateway.json</c>, <c>routes.json</c> and <c>perimeter.json</c>.</summary>
    public const string ConfigDir = "--config-dir";

    /// <summary>The routes file (default: <c>routes.json</c> in the config directory).</summary>
    public const string Routes = "--routes";

    /// <summary>The policy file (default: <c>perimeter.json</c> in the config directory).</summary>
    public const string Policy = "--policy";

    /// <summary><see cref="Check"/>: the configuration is valid.</summary>
    public const int CheckPassed = 0;

    /// <summary><see cref="Check"/>: the configuration has errors (each printed on standard error).</summary>
    public const int CheckFailed = 1;

    /// <summary>The gateway did not start: its configuration is invalid (every error logged).</summary>
    public const int InvalidConfiguration = 2;
}
