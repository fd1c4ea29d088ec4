using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// The hidden verb <c>perimeter sandbox relay --listen 127.0.0.1:PORT --to EGRESS_SOCKET --host-netns NS
/// --ready-file FILE -- COMMAND [ARGS…]</c>: the sandbox's first process, which <c>sandbox run</c> starts
/// inside the new namespace. It checks that it really is in a new network namespace (not
/// NS, the one the CLI started in) with no route but loopback, brings <c>lo</c> up,
/// starts the <see cref="EgressRelay"/>, then runs the command as its child — standard streams passed
/// through, environment as <c>sandbox run</c> prepared it — and exits with the command's exit code,
/// stopping the relay. Any check that fails ends it with <see cref="SandboxExitCodes.SetupFailed"/> before
/// the command starts: it never runs a command where the network is not contained.
/// </summary>
internal static class SandboxRelay
{
    public const string Verb = "relay";

    private static readonly HashSet<string> Options = ["listen", "to", "host-netns", "ready-file"];

    public static async Task<int> RunAsync(string[] args)
    {
        var (options, command) = SandboxCommandLine.Split(args, $"sandbox {Verb}", Options);
        if (command.Length == 0)
            throw new ArgsException($"usage: perimeter sandbox {Verb} --listen 127.0.0.1:PORT --to EGRESS_SOCKET --host-netns NS --ready-file FILE -- COMMAND [ARGS...]");
        var listenText = options.Required("listen", "127.0.0.1:3128");
        if (!IPEndPoint.TryParse(listenText, out var listen))
            throw new ArgsException($"--listen must be ADDRESS:PORT, not '{listenText}'.");
        var egressSocket = options.Required("to", "data/egress.sock");
        var hostNamespace = options.Required("host-netns", "net:[4026531840]");
        var readyFile = options.Required("ready-file", "started");

        var current = NetworkNamespace.Current();
        if (current is null || current == hostNamespace)
            return SetupFailed($"this is not a new network namespace ({current ?? "unknown"}); 'sandbox {Verb}' runs only inside the namespace 'sandbox run' creates");
        try
        {
            Loopback.BringUp();
        }
        catch (Win32Exception ex)
        {
            return SetupFailed($"cannot bring up the loopback interface in the new namespace: {ex.Message}");
        }
        if (RouteTable.DevicesOtherThanLoopback() is { Count: > 0 } devices)
            return SetupFailed($"the new namespace has routes through {string.Join(", ", devices)}, not only loopback");

        EgressRelay relay;
        try
        {
            relay = EgressRelay.Start(listen, egressSocket);
        }
        catch (SocketException ex)
        {
            return SetupFailed($"cannot listen on {listen} inside the sandbox: {ex.Message}");
        }
        await using (relay)
        {
            // From here the command may run: sandbox run reads this to know the namespace was made ready.
            File.WriteAllText(readyFile, "");
            return await RunCommandAsync(command).ConfigureAwait(false);
        }
    }

    private static async Task<int> RunCommandAsync(string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var a in command[1..])
            info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception ex)
        {
            var notFound = ex.NativeErrorCode == ENoEnt;
            Console.Error.WriteLine(notFound
                ? $"perimeter: {command[0]}: command not found in the sandbox."
                : $"perimeter: cannot run '{command[0]}' in the sandbox: {ex.Message}");
            return notFound ? SandboxExitCodes.NotFound : SandboxExitCodes.CannotExecute;
        }
        using (process)
        using (ChildSignals.ForwardTo(process))
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
            return process.ExitCode;
        }
    }

    private const int ENoEnt = 2;

    private static int SetupFailed(string message)
    {
        Console.Error.WriteLine($"perimeter: {message}; the command was NOT run.");
        return SandboxExitCodes.SetupFailed;
    }
}
