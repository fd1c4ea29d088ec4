using System.Net;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// One range the guard refuses: its network, its reason code, what it is in words and where that is written
/// down. Built once at startup; its refusal verdict is built with it so a refused check allocates nothing.
/// </summary>
internal sealed class SpecialAddressRange
{
    public SpecialAddressRange(string cidr, string reason, string what, string source)
    {
        Network = IPNetwork.Parse(cidr);
        (IsIPv6, Prefix, Length) = AddressBits.Of(Network);
        Reason = reason;
        What = what;
        Source = source;
        Refusal = AddressVerdict.Refused(this, embedding: null);
    }

    /// <summary>The network, as written in the table (e.g. <c>127.0.0.0/8</c>).</summary>
    public IPNetwork Network { get; }

    public bool IsIPv6 { get; }

    public UInt128 Prefix { get; }

    public int Length { get; }

    /// <summary>One of <see cref="AddressRefusalReason"/>.</summary>
    public string Reason { get; }

    /// <summary>What an address in it is, in words an agent can read ("a loopback address").</summary>
    public string What { get; }

    /// <summary>The RFC (or vendor documentation) that reserves it.</summary>
    public string Source { get; }

    /// <summary>The verdict for an address in this range that no allowance lifts.</summary>
    public AddressVerdict Refusal { get; }

    public bool Contains(UInt128 value, bool isIPv6) => isIPv6 == IsIPv6 && AddressBits.Within(value, Prefix, Length, IsIPv6);

    /// <summary>Whether a whole network lies inside this range: only such a network can lift its refusal.</summary>
    public bool Covers(bool isIPv6, UInt128 prefix, int length) => length >= Length && Contains(prefix, isIPv6);
}
