using System.ComponentModel;
using System.Diagnostics;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// Starts a program in a new, empty network namespace, with util-linux's <c>unshare</c>:
/// <c>unshare --user --map-root-user --net -- PROGRAM ARGS…</c>.
/// <para>
/// <b>Why a user namespace too, even for root.</b> A network namespace owned by the host's user namespace
/// does not hold real root in: with CAP_SYS_ADMIN over the host, a command can <c>setns</c> back into the
/// host's network (<c>nsenter --net=/proc/1/ns/net</c>) or ptrace a host process and use its sockets. In a
/// new user namespace the command is "root" over its own namespaces only: it can bring up its loopback
/// and bind any port there, but the host's network namespace and processes are out of its reach. The same
/// command line works unprivileged wherever unprivileged user namespaces are allowed, so the CLI does not
/// branch on who runs it. Where user namespaces are not allowed (some container runtimes' seccomp
/// profiles, <c>kernel.apparmor_restrict_unprivileged_userns</c>, <c>user.max_user_namespaces=0</c>) the
/// sandbox is unavailable and says so; it never falls back to a weaker one or to none.
/// </para>
/// <para>
/// <b>No <c>--fork</c>.</b> Neither namespace needs one (only a PID namespace does), so <c>unshare</c>
/// execs the program in place: the CLI's child <i>is</i> the sandbox's first process, signals reach it
/// directly, and its exit code is the CLI's.
/// </para>
/// <para>
/// What the namespace does not isolate: the file system (the same files, as the same user — which is how
/// the gateway's egress socket is reached, and also any other Unix socket the user may open; keep an
/// admin token file where the agent's user cannot read it), and processes outside are not hidden. Root
/// inside is the caller's own user outside, with its file access: run agents as an unprivileged user, as
/// a root that can write where the host runs programs from is not contained by a network namespace. With
/// no PID namespace, a background process the command leaves behind outlives it, in the namespace and
/// with no relay — so with no way out. It contains the network: inside, only <c>lo</c> exists.
/// </para>
/// </summary>
internal static class NetworkNamespace
{
    private const string Unshare = "unshare";
    private static readonly string[] UnshareArguments = ["--user", "--map-root-user", "--net", "--"];

    /// <summary>
    /// Whether a namespace can be created here: null when it can, else why not in <c>unshare</c>'s own
    /// words. Asked with a trivial program first so that a refusal is told apart from the command's own exit code.
    /// </summary>
    public static async Task<string?> WhyUnavailableAsync()
    {
        if (!OperatingSystem.IsLinux())
            return "network namespaces are a Linux feature";
        var info = StartInfo("true", []);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        try
        {
            using var probe = Process.Start(info)!;
            var errors = probe.StandardError.ReadToEndAsync();
            await probe.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
            await probe.WaitForExitAsync().ConfigureAwait(false);
            var message = (await errors.ConfigureAwait(false)).Trim();
            return probe.ExitCode == 0 ? null : message.Length > 0 ? message : $"unshare exited with code {probe.ExitCode}";
        }
        catch (Win32Exception ex)
        {
            return $"cannot run 'unshare' ({ex.Message}); it comes with util-linux";
        }
    }

    /// <summary>Starts <paramref name="program"/> in a new namespace, standard input, output and error passed through.</summary>
    public static Process Start(string program, IEnumerable<string> arguments, Action<IDictionary<string, string?>> environment)
    {
        var info = StartInfo(program, arguments);
        environment(info.Environment);
        return Process.Start(info)!;
    }

    private static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(Unshare) { UseShellExecute = false };
        foreach (var a in UnshareArguments)
            info.ArgumentList.Add(a);
        info.ArgumentList.Add(program);
        foreach (var a in arguments)
            info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>The network namespace this process is in (<c>net:[inode]</c>), to tell a new one from the host's.</summary>
    public static string? Current() => new FileInfo("/proc/self/ns/net").LinkTarget;
}
