using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// Makes what was written to a file durable on the device. On Linux: <c>fdatasync</c> — the data and the
/// metadata needed to read it back (an append's new size), without an inode timestamp update, so a batch
/// costs one device flush and no journal commit for mtime. Elsewhere: <see cref="FileStream.Flush(bool)"/>.
/// Safe to call while another thread writes to the same file (the kernel orders both).
/// </summary>
internal static partial class DeviceFlush
{
    public static void Flush(FileStream stream)
    {
        if (!OperatingSystem.IsLinux())
        {
            stream.Flush(flushToDisk: true);
            return;
        }
        if (fdatasync(stream.SafeFileHandle) != 0)
            throw new IOException($"fdatasync failed (errno {Marshal.GetLastPInvokeError()})");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(SafeFileHandle fd);
}
