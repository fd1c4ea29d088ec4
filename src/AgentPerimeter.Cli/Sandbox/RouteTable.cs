namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// The routes of the network namespace this process is in, read from <c>/proc/self/net</c> (which, unlike
/// <c>/sys/class/net</c>, always shows the reader's own namespace). The sandbox refuses to run a command
/// when any route leaves through a device other than <c>lo</c>: "no way out but the relay" is checked, not assumed.
/// </summary>
internal static class RouteTable
{
    /// <summary>The devices, other than <c>lo</c>, that some IPv4 or IPv6 route goes through.</summary>
    public static IReadOnlyList<string> DevicesOtherThanLoopback()
    {
        var devices = new SortedSet<string>(StringComparer.Ordinal);
        // IPv4 main table: a header line, then "Iface Destination Gateway Flags …" per route.
        foreach (var line in ReadLines("/proc/self/net/route").Skip(1))
            Add(devices, line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault());
        // IPv6 (every table, absent when IPv6 is off): no header, the device is the last field.
        foreach (var line in ReadLines("/proc/self/net/ipv6_route"))
            Add(devices, line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault());
        return [.. devices];
    }

    private static void Add(SortedSet<string> devices, string? device)
    {
        if (!string.IsNullOrEmpty(device) && device != "lo")
            devices.Add(device);
    }

    private static IEnumerable<string> ReadLines(string path) => File.Exists(path) ? File.ReadLines(path) : [];
}
