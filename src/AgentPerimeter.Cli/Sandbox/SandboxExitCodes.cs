namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// The exit codes of <c>perimeter sandbox run</c> that are the CLI's own. Any other code is the command's
/// (a command killed by a signal exits 128 + the signal's number, as in a shell). Every code below except
/// <see cref="CannotExecute"/> and <see cref="NotFound"/> is given before the command started; it was not run.
/// </summary>
internal static class SandboxExitCodes
{
    /// <summary>The command line is wrong, or the admin listener refused or could not be reached (<see cref="Cli.Fail"/>).</summary>
    public const int Usage = 64;

    /// <summary>
    /// EX_UNAVAILABLE: the sandbox cannot be set up on this host — no network namespace can be created
    /// (no privileges, <c>unshare</c> missing, not Linux) or the gateway's egress socket cannot be reached.
    /// The command was NOT run.
    /// </summary>
    public const int Unavailable = 69;

    /// <summary>
    /// EX_SOFTWARE: the namespace was created but could not be made ready (loopback, the relay's port, a
    /// route that should not be there), or the sandbox stopped before starting the command. The command was NOT run.
    /// </summary>
    public const int SetupFailed = 70;

    /// <summary>The command was found but could not be executed (as a shell says: 126).</summary>
    public const int CannotExecute = 126;

    /// <summary>The command was not found (as a shell says: 127).</summary>
    public const int NotFound = 127;
}
