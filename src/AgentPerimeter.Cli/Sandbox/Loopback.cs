using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// Brings up <c>lo</c> in the sandbox's new network namespace (it starts down), as <c>ip link set lo up</c>
/// does but with the two <c>ioctl</c>s directly, so the sandbox does not depend on iproute2 being installed.
/// </summary>
internal static class Loopback
{
    private const nuint SiocGifFlags = 0x8913;
    private const nuint SiocSifFlags = 0x8914;
    private const short IffUp = 0x1;

    // struct ifreq: char ifr_name[IFNAMSIZ = 16], then a union (40 bytes in all on 64-bit Linux) whose
    // short ifr_flags is at offset 16.
    private const int IfReqSize = 40;
    private const int FlagsOffset = 16;

    /// <summary>Sets <c>lo</c> up; throws <see cref="Win32Exception"/> with the system's reason when it cannot.</summary>
    public static void BringUp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var fd = (int)socket.Handle;
        var request = new byte[IfReqSize];
        Encoding.ASCII.GetBytes("lo", request);
        if (Libc.Ioctl(fd, SiocGifFlags, request) != 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError());
        var flags = BitConverter.ToInt16(request, FlagsOffset);
        if ((flags & IffUp) != 0)
            return;
        BitConverter.TryWriteBytes(request.AsSpan(FlagsOffset), (short)(flags | IffUp));
        if (Libc.Ioctl(fd, SiocSifFlags, request) != 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError());
    }
}
