using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// SSRF protection for the egress proxy: decides whether the proxy may open a connection to an address.
/// It is applied to every address a destination resolves to, right before connecting (not to the name, and
/// not once per name: DNS rebinding changes the answer between a check and a connect).
/// </summary>
/// <remarks>
/// <para>Refused: every range in <see cref="SpecialAddressRanges"/> (loopback, private, link-local, CGNAT,
/// unique-local, multicast, unspecified, documentation, benchmarking, broadcast, reserved, and the cloud metadata
/// endpoints by name). An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64,
/// 6to4, Teredo, ISATAP; see <see cref="EmbeddedIpv4Form"/>) is judged as that IPv4 address, because that
/// is where its packets end up: <c>::ffff:127.0.0.1</c>, <c>64:ff9b::a9fe:a9fe</c> and
/// <c>2002:a9fe:a9fe::</c> are loopback and the metadata service.</para>
/// <para>Allowances: an operator lifts a refusal for an internal host with an allowed CIDR. A CIDR lifts a
/// refusal only when it lies inside the refused range that applies to the address: <c>10.1.2.0/24</c> lifts
/// <c>10.1.2.3</c>; <c>0.0.0.0/0</c> lifts nothing; <c>169.254.0.0/16</c> lifts link-local hosts but not
/// <c>169.254.169.254</c>, which needs <c>169.254.169.254/32</c> by name. An IPv6 CIDR never lifts an
/// embedding (allowing <c>64:ff9b::/96</c> does not make the NAT64 form of 127.0.0.1 reachable); the IPv4
/// address inside is judged against the IPv4 allowances.</para>
/// <para>Pure and allocation-free on the allowed path; safe to call from any thread.</para>
/// </remarks>
internal static class AddressGuard
{
    // The IPv6 prefixes that carry an IPv4 address, as full 128-bit prefixes.
    private static readonly UInt128 Mapped = (UInt128)0xffff << 32;                  // ::ffff:0:0/96
    private static readonly UInt128 Nat64WellKnown = (UInt128)0x0064_ff9b << 96;      // 64:ff9b::/96
    private static readonly UInt128 Nat64LocalUse = (UInt128)0x0064_ff9b_0001 << 80;  // 64:ff9b:1::/48
    private static readonly UInt128 SixToFour = (UInt128)0x2002 << 112;               // 2002::/16
    private static readonly UInt128 Teredo = (UInt128)0x2001_0000 << 96;              // 2001::/32
    private static readonly UInt128 Low48Bits = (UInt128.One << 48) - 1;

    /// <summary>Checks an address with no allowances.</summary>
    public static AddressVerdict Check(IPAddress address) => Check(address, []);

    /// <summary>Checks an address against the refused ranges, lifting a refusal where an allowed CIDR covers it.</summary>
    public static AddressVerdict Check(IPAddress address, IReadOnlyList<IPNetwork> allowedCidrs)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(allowedCidrs);
        var value = AddressBits.Of(address);
        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? CheckIPv6(value, allowedCidrs)
            : CheckIPv4((uint)value, allowedCidrs, embedding: null);
    }

    /// <summary>Parses an allowed CIDR from configuration; see the overload with an error.</summary>
    public static bool TryParseCidr(string? text, out IPNetwork network) => TryParseCidr(text, out network, out _);

    /// <summary>
    /// Parses an allowed CIDR from configuration, strictly, and says what is wrong otherwise (for a startup
    /// error that tells the operator how to fix it). Refused: no prefix length, host bits set
    /// (<c>10.1.2.3/24</c>: a typo for /32 or for 10.1.2.0/24?), a scope id, and a CIDR that would lift nothing
    /// (a public range, one wider than the refused range it overlaps, one inside an embedding form).
    /// <c>::ffff:a.b.c.d/n</c> (n ≥ 96) is returned as the IPv4 network it maps.
    /// </summary>
    public static bool TryParseCidr(string? text, out IPNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            error = "an allowed CIDR is empty: write an address range such as 10.1.2.0/24";
            return false;
        }
        int slash = trimmed.IndexOf('/');
        if (slash < 0)
        {
            error = $"'{trimmed}' has no prefix length: write {trimmed}/32 (or /128) for one host, or the network's length";
            return false;
        }
        if (trimmed.Contains('%'))
        {
            error = $"'{trimmed}' has a scope id: an allowed CIDR names addresses on every interface; remove the %… part";
            return false;
        }
        if (!IPNetwork.TryParse(trimmed, out var parsed) || !IPAddress.TryParse(trimmed.AsSpan(0, slash), out var written))
        {
            error = $"'{trimmed}' is not a CIDR: write an address, a slash and a prefix length, such as 10.1.2.0/24 or fd00:1::/48";
            return false;
        }
        // IPNetwork.TryParse quietly clears host bits; an operator who wrote them meant something else.
        if (!parsed.BaseAddress.Equals(written))
        {
            error = $"'{trimmed}' has bits set beyond its prefix length: write {parsed} for the network, or {written}/{(written.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)} for the one host";
            return false;
        }
        var (isIPv6, prefix, length) = AddressBits.Of(parsed);
        if (!isIPv6 && parsed.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6)
            parsed = new IPNetwork(AddressBits.ToIPv4((uint)prefix), length);
        if (isIPv6 && EmbedsIPv4(prefix, length))
        {
            error = $"'{trimmed}' is an IPv6 form that embeds IPv4 addresses, which are judged as IPv4: allow the IPv4 range they carry instead";
            return false;
        }
        var covering = SpecialAddressRanges.FindCovering(isIPv6, prefix, length);
        if (covering is null)
        {
            var covered = FirstCoveredBy(isIPv6, prefix, length);
            error = covered is null
                ? $"'{trimmed}' is not a refused range (public addresses are allowed already), so allowing it changes nothing; remove it"
                : $"'{trimmed}' is wider than the refused range {covered.Network} ({covered.Reason}) and lifts nothing: name a range inside {covered.Network}";
            return false;
        }
        network = parsed;
        error = null;
        return true;
    }

    private static AddressVerdict CheckIPv4(uint value, IReadOnlyList<IPNetwork> allowed, string? embedding)
    {
        var range = SpecialAddressRanges.Find(value, isIPv6: false);
        if (range is null || IsLifted(range, value, isIPv6: false, allowed))
            return AddressVerdict.Allowed;
        return embedding is null ? range.Refusal : AddressVerdict.Refused(range, embedding);
    }

    private static AddressVerdict CheckIPv6(UInt128 value, IReadOnlyList<IPNetwork> allowed)
    {
        uint low = (uint)value;
        // Forms that carry an IPv4 address are judged by it alone; their own IPv6 range neither refuses nor lifts.
        if (Within(value, Mapped, 96))
            return CheckIPv4(low, allowed, EmbeddedIpv4Form.Mapped);
        if (value >> 32 == 0 && value > 1) // ::/96 less :: and ::1, which the table names
            return CheckIPv4(low, allowed, EmbeddedIpv4Form.Compatible);
        if (Within(value, Nat64WellKnown, 96))
            return CheckIPv4(low, allowed, EmbeddedIpv4Form.Nat64);
        if (Within(value, Nat64LocalUse, 48))
        {
            return ((value >> 32) & Low48Bits) == 0
                ? CheckIPv4(low, allowed, EmbeddedIpv4Form.Nat64)
                : SpecialAddressRanges.AmbiguousNat64.Refusal;
        }
        if (Within(value, SixToFour, 16))
            return CheckIPv4((uint)(value >> 80), allowed, EmbeddedIpv4Form.SixToFour);
        if (Within(value, Teredo, 32))
        {
            // Both ends matter: packets go to the client's mapped address, and to the server for the qualification.
            var server = CheckIPv4((uint)(value >> 64), allowed, EmbeddedIpv4Form.TeredoServer);
            return server.IsAllowed ? CheckIPv4(~low, allowed, EmbeddedIpv4Form.TeredoClient) : server;
        }

        var range = SpecialAddressRanges.Find(value, isIPv6: true);
        if (range is not null && !IsLifted(range, value, isIPv6: true, allowed))
            return range.Refusal;
        // ISATAP puts the IPv4 address in the interface identifier of any prefix (u/g bits aside), so it is
        // judged even where the prefix itself is allowed: an allowance never lifts an embedding.
        if (((uint)(value >> 32) & 0xfcff_ffff) == 0x0000_5efe)
            return CheckIPv4(low, allowed, EmbeddedIpv4Form.Isatap);
        return AddressVerdict.Allowed;
    }

    private static bool IsLifted(SpecialAddressRange range, UInt128 value, bool isIPv6, IReadOnlyList<IPNetwork> allowed)
    {
        for (int i = 0; i < allowed.Count; i++)
        {
            var (netIsIPv6, prefix, length) = AddressBits.Of(allowed[i]);
            if (range.Covers(netIsIPv6, prefix, length) && AddressBits.Within(value, prefix, length, isIPv6))
                return true;
        }
        return false;
    }

    private static bool EmbedsIPv4(UInt128 prefix, int length)
    {
        // A network overlaps an embedding form when either contains the other.
        bool Overlaps(UInt128 form, int formLength) => AddressBits.Within(prefix, form, Math.Min(length, formLength), isIPv6: true);
        // ::1 (loopback) and :: (unspecified) sit inside ::/96 but carry no IPv4 address: an operator may allow ::1/128.
        if (length == 128 && (prefix == UInt128.One || prefix == UInt128.Zero))
            return false;

        return Overlaps(UInt128.Zero, 96) || Overlaps(Mapped, 96) || Overlaps(Nat64WellKnown, 96) || Overlaps(Nat64LocalUse, 48)
            || Overlaps(SixToFour, 16) || Overlaps(Teredo, 32);
    }

    private static bool Within(UInt128 value, UInt128 prefix, int length) => AddressBits.Within(value, prefix, length, isIPv6: true);

    private static SpecialAddressRange? FirstCoveredBy(bool isIPv6, UInt128 prefix, int length)
    {
        foreach (var range in isIPv6 ? SpecialAddressRanges.IPv6 : SpecialAddressRanges.IPv4)
        {
            if (range.Length >= length && AddressBits.Within(range.Prefix, prefix, length, isIPv6))
                return range;
        }
        return null;
    }
}
