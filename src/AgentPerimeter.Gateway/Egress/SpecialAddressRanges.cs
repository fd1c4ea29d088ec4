namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The table of refused ranges, with the RFC for each. Order matters: a lookup returns the first range that
/// contains an address, so every range comes before any wider range that contains it (the metadata hosts
/// before link-local, 255.255.255.255 before 240.0.0.0/4). A test checks that no entry is shadowed.
/// IPv6 forms that embed an IPv4 address are not in this table: <see cref="AddressGuard"/> decodes them and
/// judges the IPv4 address against the IPv4 table.
/// </summary>
internal static class SpecialAddressRanges
{
    // Mostly IANA's IPv4 Special-Purpose Address Registry (RFC 6890), every entry of it that is not globally
    // reachable, plus the cloud metadata hosts that live at otherwise ordinary addresses.
    private static readonly SpecialAddressRange[] V4 =
    [
        // "This host on this network": Linux connects 0.0.0.0 to the local host, so it is loopback in disguise.
        new("0.0.0.0/8", AddressRefusalReason.Unspecified, "the unspecified address or \"this network\"", "RFC 1122 §3.2.1.3, RFC 6890"),
        new("10.0.0.0/8", AddressRefusalReason.Private, "a private address", "RFC 1918"),
        // Alibaba Cloud's metadata service sits inside the shared address space.
        new("100.100.100.200/32", AddressRefusalReason.Metadata, "a cloud metadata endpoint (Alibaba Cloud)", "Alibaba Cloud ECS documentation"),
        new("100.64.0.0/10", AddressRefusalReason.Cgnat, "a carrier-grade NAT shared address", "RFC 6598"),
        new("127.0.0.0/8", AddressRefusalReason.Loopback, "a loopback address", "RFC 1122 §3.2.1.3"),
        // Azure's WireServer (agent and extension configuration, certificates) is a public address reachable only from inside Azure.
        new("168.63.129.16/32", AddressRefusalReason.Metadata, "a cloud metadata endpoint (Azure WireServer)", "Azure virtual network documentation"),
        // Instance metadata, including role credentials: AWS, Azure, GCP, Oracle, DigitalOcean, OpenStack and others.
        new("169.254.169.254/32", AddressRefusalReason.Metadata, "a cloud instance metadata endpoint", "RFC 3927 range; cloud provider documentation"),
        // AWS ECS task credentials and EKS Pod Identity credentials.
        new("169.254.170.2/32", AddressRefusalReason.Metadata, "a cloud credential endpoint (AWS ECS task metadata)", "AWS ECS documentation"),
        new("169.254.170.23/32", AddressRefusalReason.Metadata, "a cloud credential endpoint (AWS EKS Pod Identity)", "AWS EKS documentation"),
        new("169.254.0.0/16", AddressRefusalReason.LinkLocal, "a link-local address", "RFC 3927"),
        new("172.16.0.0/12", AddressRefusalReason.Private, "a private address", "RFC 1918"),
        // IETF protocol assignments: DS-Lite (192.0.0.0/29), NAT64 discovery (192.0.0.170/31) and the like.
        new("192.0.0.0/24", AddressRefusalReason.Reserved, "an IETF protocol assignment", "RFC 6890 §2.2.2"),
        new("192.0.2.0/24", AddressRefusalReason.Documentation, "a documentation address (TEST-NET-1)", "RFC 5737"),
        // The 6to4 relay anycast prefix, deprecated: whatever answers there is not a destination anyone means.
        new("192.88.99.0/24", AddressRefusalReason.Reserved, "the deprecated 6to4 relay anycast range", "RFC 3068, RFC 7526"),
        new("192.168.0.0/16", AddressRefusalReason.Private, "a private address", "RFC 1918"),
        new("198.18.0.0/15", AddressRefusalReason.Benchmarking, "a benchmarking address", "RFC 2544"),
        new("198.51.100.0/24", AddressRefusalReason.Documentation, "a documentation address (TEST-NET-2)", "RFC 5737"),
        new("203.0.113.0/24", AddressRefusalReason.Documentation, "a documentation address (TEST-NET-3)", "RFC 5737"),
        new("224.0.0.0/4", AddressRefusalReason.Multicast, "a multicast address", "RFC 5771"),
        new("255.255.255.255/32", AddressRefusalReason.Broadcast, "the limited broadcast address", "RFC 919, RFC 8190"),
        new("240.0.0.0/4", AddressRefusalReason.Reserved, "a reserved address (former class E)", "RFC 1112 §4, RFC 6890"),
    ];

    // IANA's IPv6 Special-Purpose Address Registry (RFC 6890), then everything outside 2000::/3: global unicast
    // is only ever allocated from 2000::/3 (RFC 4291 §2.4, IANA IPv6 Address Space), so an address elsewhere is
    // refused as reserved unless a named range above says more precisely what it is.
    private static readonly SpecialAddressRange[] V6 =
    [
        new("::/128", AddressRefusalReason.Unspecified, "the unspecified address", "RFC 4291 §2.5.2"),
        new("::1/128", AddressRefusalReason.Loopback, "the loopback address", "RFC 4291 §2.5.3"),
        new("100::/64", AddressRefusalReason.Reserved, "a discard-only address", "RFC 6666"),
        new("2001:2::/48", AddressRefusalReason.Benchmarking, "a benchmarking address", "RFC 5180"),
        new("2001:10::/28", AddressRefusalReason.Reserved, "a deprecated ORCHID address", "RFC 4843"),
        new("2001:db8::/32", AddressRefusalReason.Documentation, "a documentation address", "RFC 3849"),
        new("3fff::/20", AddressRefusalReason.Documentation, "a documentation address", "RFC 9637"),
        new("5f00::/16", AddressRefusalReason.Reserved, "a segment routing (SRv6) SID", "RFC 9602"),
        // AWS's IPv6 instance metadata and EKS Pod Identity credential endpoints sit in unique-local space.
        new("fd00:ec2::254/128", AddressRefusalReason.Metadata, "a cloud instance metadata endpoint (AWS, IPv6)", "AWS EC2 documentation"),
        new("fd00:ec2::23/128", AddressRefusalReason.Metadata, "a cloud credential endpoint (AWS EKS Pod Identity, IPv6)", "AWS EKS documentation"),
        new("fc00::/7", AddressRefusalReason.UniqueLocal, "a unique local address", "RFC 4193"),
        // OpenStack's metadata proxy answers on this link-local anycast address.
        new("fe80::a9fe:a9fe/128", AddressRefusalReason.Metadata, "a cloud instance metadata endpoint (OpenStack, IPv6)", "OpenStack Neutron documentation"),
        new("fe80::/10", AddressRefusalReason.LinkLocal, "a link-local address", "RFC 4291 §2.5.6"),
        new("fec0::/10", AddressRefusalReason.Private, "a deprecated site-local address", "RFC 3879"),
        new("ff00::/8", AddressRefusalReason.Multicast, "a multicast address", "RFC 4291 §2.7"),
        new("::/3", AddressRefusalReason.Reserved, "an address outside the global unicast space", "RFC 4291 §2.4"),
        new("4000::/2", AddressRefusalReason.Reserved, "an address outside the global unicast space", "RFC 4291 §2.4"),
        new("8000::/1", AddressRefusalReason.Reserved, "an address outside the global unicast space", "RFC 4291 §2.4"),
    ];

    /// <summary>The IPv4 table, most specific first.</summary>
    public static IReadOnlyList<SpecialAddressRange> IPv4 => V4;

    /// <summary>The IPv6 table, most specific first.</summary>
    public static IReadOnlyList<SpecialAddressRange> IPv6 => V6;

    /// <summary>
    /// The local-use NAT64 prefix carries its IPv4 address in any of RFC 6052's six layouts; only the /96 one
    /// (bits 48–95 zero) can be told apart from the others, so any other address in it is refused as
    /// undecodable rather than judged by a guess.
    /// </summary>
    public static SpecialAddressRange AmbiguousNat64 { get; } =
        new("64:ff9b:1::/48", AddressRefusalReason.Reserved, "a local-use NAT64 address whose IPv4 layout is not /96", "RFC 8215, RFC 6052 §2.2");

    /// <summary>The most specific refused range that contains the address, or null when it is not special.</summary>
    public static SpecialAddressRange? Find(UInt128 value, bool isIPv6)
    {
        // Arrays, not the interface: a foreach over IReadOnlyList would allocate an enumerator per check.
        foreach (var range in isIPv6 ? V6 : V4)
        {
            if (range.Contains(value, isIPv6))
                return range;
        }
        return null;
    }

    /// <summary>The most specific refused range that contains a whole network, or null.</summary>
    public static SpecialAddressRange? FindCovering(bool isIPv6, UInt128 prefix, int length)
    {
        foreach (var range in isIPv6 ? V6 : V4)
        {
            if (range.Covers(isIPv6, prefix, length))
                return range;
        }
        return null;
    }
}
