using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// While a process waits for its child (the CLI for the sandbox, the sandbox for the command), signals
/// must not end the waiter first — or the command's exit code is lost and the command outlives its relay.
/// <list type="bullet">
/// <item>SIGINT and SIGQUIT come from the terminal to the whole foreground process group, so the command
/// has its own copy: the waiter ignores them and the command decides (an interactive agent may take
/// Ctrl+C as "cancel this" and carry on). They are not forwarded: a second copy would be a double Ctrl+C.</item>
/// <item>SIGTERM and SIGHUP are usually sent to one process (a supervisor stopping the CLI): the waiter
/// passes them on to its child and keeps waiting, so the command is asked to stop and its exit code still returns.</item>
/// </list>
/// </summary>
internal sealed class ChildSignals : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    private ChildSignals(Process child)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Ignore),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Ignore),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Forward(context, child, Libc.SigTerm)),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => Forward(context, child, Libc.SigHup)),
        ];
    }

    /// <summary>Handles the signals for as long as the result is not disposed (until <paramref name="child"/> has exited).</summary>
    public static ChildSignals ForwardTo(Process child) => new(child);

    private static void Ignore(PosixSignalContext context) => context.Cancel = true;

    private static void Forward(PosixSignalContext context, Process child, int signal)
    {
        context.Cancel = true;
        try
        {
            if (!child.HasExited)
                Libc.Kill(child.Id, signal);
        }
        catch (InvalidOperationException)
        {
            // exited and reaped meanwhile
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
    }
}
