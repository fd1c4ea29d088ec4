using System.Runtime.InteropServices;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>The few C library calls the sandbox needs that .NET does not offer (Linux only).</summary>
internal static class Libc
{
    public const int SigHup = 1;
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);

    /// <summary><c>ioctl(fd, request, void *arg)</c>, with the argument a pinned byte buffer (an <c>ifreq</c>).</summary>
    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static extern int Ioctl(int fd, nuint request, byte[] argument);
}
