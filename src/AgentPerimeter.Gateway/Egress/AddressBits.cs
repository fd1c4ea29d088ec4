using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// Addresses and networks as plain integers (IPv4 in the low 32 bits of a <see cref="UInt128"/>), so that
/// the guard compares prefixes with a shift instead of allocating <see cref="IPAddress"/> objects, and so
/// that the family is always explicit: <see cref="IPNetwork.Contains"/> quietly matches an IPv4 network
/// against an IPv4-mapped IPv6 address, which would let an allowance leak into an embedding.
/// </summary>
internal static class AddressBits
{
    /// <summary>The address's bits. The scope id (<c>fe80::1%eth0</c>) is not part of them: scope names an
    /// interface, not a different destination class, so <c>fe80::1%2</c> is judged as <c>fe80::1</c>.</summary>
    public static UInt128 Of(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
            throw new ArgumentException("the address does not fit 16 bytes", nameof(address));
        return written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>The IPv4 address of a 32-bit value.</summary>
    public static IPAddress ToIPv4(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    /// <summary>
    /// A network's family, prefix bits and length. An IPv4-mapped network of /96 or longer
    /// (<c>::ffff:10.0.0.0/104</c>) is the IPv4 network it maps (<c>10.0.0.0/8</c>): that is what it means.
    /// </summary>
    public static (bool IsIPv6, UInt128 Prefix, int Length) Of(IPNetwork network)
    {
        var prefix = Of(network.BaseAddress);
        if (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
            return (false, prefix, network.PrefixLength);
        if (network.PrefixLength >= 96 && prefix >> 32 == 0xffff)
            return (false, (uint)prefix, network.PrefixLength - 96);
        return (true, prefix, network.PrefixLength);
    }

    /// <summary>Whether <paramref name="value"/> lies in the network of <paramref name="prefix"/>/<paramref name="length"/>.</summary>
    public static bool Within(UInt128 value, UInt128 prefix, int length, bool isIPv6)
    {
        // A shift by the full width would be masked to a shift by 0 (C# takes the count modulo 128), so /0 is its own case.
        if (length == 0)
            return true;
        int width = isIPv6 ? 128 : 32;
        return (value ^ prefix) >> (width - length) == 0;
    }
}
