namespace AgentPerimeter.Cli;

/// <summary>The gateway child process ended (or never said where it listens) before it was ready.</summary>
internal sealed class GatewayStartException(int? exitCode, string message) : Exception(message)
{
    /// <summary>The gateway's exit code; null when it was still running but never became ready.</summary>
    public int? ExitCode { get; } = exitCode;
}
