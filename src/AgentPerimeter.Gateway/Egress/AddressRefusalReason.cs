namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The bounded set of reasons <see cref="AddressGuard"/> refuses a destination with. They are stable codes
/// (records, metric labels, the refusal an agent reads), so a new special range reuses one of them rather
/// than minting a code per range; the range itself is in <see cref="AddressVerdict.Range"/>.
/// </summary>
internal static class AddressRefusalReason
{
    /// <summary>127.0.0.0/8, ::1: the proxy's own host, where the gateway and its admin endpoints listen.</summary>
    public const string Loopback = "loopback";

    /// <summary>RFC 1918 networks (and the deprecated IPv6 site-local range): someone's internal network.</summary>
    public const string Private = "private";

    /// <summary>169.254.0.0/16, fe80::/10: on-link only, where cloud hosts put their local services.</summary>
    public const string LinkLocal = "link_local";

    /// <summary>100.64.0.0/10, the carrier-grade NAT shared space: internal to a provider.</summary>
    public const string Cgnat = "cgnat";

    /// <summary>fc00::/7, IPv6's private networks.</summary>
    public const string UniqueLocal = "unique_local";

    /// <summary>224.0.0.0/4, ff00::/8: not a single host; TCP to it is meaningless.</summary>
    public const string Multicast = "multicast";

    /// <summary>0.0.0.0/8 and ::; connecting to 0.0.0.0 reaches the local host on Linux.</summary>
    public const string Unspecified = "unspecified";

    /// <summary>A cloud instance metadata or credential endpoint: the classic SSRF prize.</summary>
    public const string Metadata = "metadata";

    /// <summary>Reserved, deprecated or unallocated space, and embeddings the guard cannot decode safely.</summary>
    public const string Reserved = "reserved";

    /// <summary>Documentation ranges: never a real destination.</summary>
    public const string Documentation = "documentation";

    /// <summary>Benchmarking ranges: lab networks, never a real destination.</summary>
    public const string Benchmarking = "benchmarking";

    /// <summary>255.255.255.255, the limited broadcast address.</summary>
    public const string Broadcast = "broadcast";

    /// <summary>Every code, for documentation and for tests that keep the set bounded.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Loopback, Private, LinkLocal, Cgnat, UniqueLocal, Multicast, Unspecified, Metadata, Reserved, Documentation, Benchmarking, Broadcast,
    ];
}
