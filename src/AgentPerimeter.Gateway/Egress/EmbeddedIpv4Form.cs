namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The IPv6 forms that carry an IPv4 address, as bounded codes for <see cref="AddressVerdict.Embedding"/>.
/// They matter because a stack, a NAT64 gateway or a tunnel delivers such an address to the IPv4 host it
/// names: <c>::ffff:127.0.0.1</c> is loopback however it is spelled, so the guard judges the IPv4 address.
/// </summary>
internal static class EmbeddedIpv4Form
{
    /// <summary><c>::ffff:a.b.c.d</c>, IPv4-mapped (RFC 4291 §2.5.5.2): a dual-stack socket connects to a.b.c.d.</summary>
    public const string Mapped = "ipv4_mapped";

    /// <summary><c>::a.b.c.d</c>, IPv4-compatible (RFC 4291 §2.5.5.1, deprecated): some stacks still route it over IPv4.</summary>
    public const string Compatible = "ipv4_compatible";

    /// <summary><c>64:ff9b::a.b.c.d</c> (RFC 6052) and <c>64:ff9b:1::/48</c> (RFC 8215): a NAT64 gateway connects to a.b.c.d.</summary>
    public const string Nat64 = "nat64";

    /// <summary><c>2002:AABB:CCDD::/48</c>, 6to4 (RFC 3056): tunnelled to the IPv4 address in bits 16–47.</summary>
    public const string SixToFour = "6to4";

    /// <summary>Teredo (RFC 4380, 2001::/32): bits 32–63 name the Teredo server.</summary>
    public const string TeredoServer = "teredo_server";

    /// <summary>Teredo (RFC 4380, 2001::/32): the last 32 bits, inverted, name the client's IPv4 address.</summary>
    public const string TeredoClient = "teredo_client";

    /// <summary>An ISATAP interface identifier <c>…:0:5efe:a.b.c.d</c> (RFC 5214 §6.1): tunnelled to a.b.c.d.</summary>
    public const string Isatap = "isatap";

    /// <summary>The human name of a form, with its RFC, for <see cref="AddressVerdict.Message"/>.</summary>
    public static string Describe(string form) => form switch
    {
        Mapped => "IPv4-mapped form (RFC 4291 §2.5.5.2)",
        Compatible => "deprecated IPv4-compatible form (RFC 4291 §2.5.5.1)",
        Nat64 => "NAT64 form (RFC 6052, RFC 8215)",
        SixToFour => "6to4 form (RFC 3056)",
        TeredoServer => "Teredo server field (RFC 4380 §4)",
        TeredoClient => "Teredo client field (RFC 4380 §4)",
        Isatap => "ISATAP interface identifier (RFC 5214 §6.1)",
        _ => throw new ArgumentOutOfRangeException(nameof(form), form, "not an embedding form"),
    };
}
