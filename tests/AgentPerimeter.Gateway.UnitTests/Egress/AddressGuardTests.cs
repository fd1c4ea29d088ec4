using System.Net;
using AgentPerimeter.Gateway.Egress;

namespace AgentPerimeter.Gateway.UnitTests.Egress;

public sealed class AddressGuardTests
{
    private static AddressVerdict Check(string literal, params string[] allowed) =>
        AddressGuard.Check(IPAddress.Parse(literal), allowed.Select(IPNetwork.Parse).ToArray());

    private static void AssertRefused(string literal, string reason, string? embedding = null)
    {
        var verdict = Check(literal);
        Assert.False(verdict.IsAllowed, $"{literal} was allowed");
        Assert.Equal(reason, verdict.Reason);
        Assert.Equal(embedding, verdict.Embedding);
    }

    // Teredo: 2001:0:<server IPv4>:<flags>:<port ^ 0xffff>:<client IPv4 ^ 0xffffffff>; server 65.54.227.120 is public.
    private const string TeredoClientLoopback = "2001:0:4136:e378:8000:63bf:80ff:fffe";
    private const string TeredoClientPrivate = "2001:0:4136:e378:8000:63bf:f5ff:fffe";   // client 10.0.0.1
    private const string TeredoClientMetadata = "2001:0:4136:e378:8000:63bf:5601:5601";  // client 169.254.169.254
    private const string TeredoServerPrivate = "2001:0:a00:1:8000:63bf:f7f7:f7f7";       // server 10.0.0.1, client 8.8.8.8
    private const string TeredoPublic = "2001:0:4136:e378:8000:63bf:fefe:fefe";          // client 1.1.1.1

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("127.255.255.254", null)]
    [InlineData("127.1", null)]          // inet_aton shorthands: the parser makes them 127.0.0.1, the guard sees that
    [InlineData("0x7f.1", null)]
    [InlineData("2130706433", null)]
    [InlineData("017700000001", null)]
    [InlineData("::1", null)]
    [InlineData("[::1]", null)]
    [InlineData("0:0:0:0:0:0:0:1", null)]
    [InlineData("::ffff:127.0.0.1", "ipv4_mapped")]
    [InlineData("::ffff:7f00:1", "ipv4_mapped")]
    [InlineData("::ffff:127.9.9.9", "ipv4_mapped")]
    [InlineData("::127.0.0.1", "ipv4_compatible")]
    [InlineData("::7f00:1", "ipv4_compatible")]
    [InlineData("64:ff9b::7f00:1", "nat64")]
    [InlineData("64:ff9b::127.0.0.1", "nat64")]
    [InlineData("64:ff9b:1::7f00:1", "nat64")]
    [InlineData("2002:7f00:0001::1", "6to4")]
    [InlineData("2002:7f00:1:ffff:ffff:ffff:ffff:ffff", "6to4")]
    [InlineData(TeredoClientLoopback, "teredo_client")]
    [InlineData("2001:0:7f00:1::", "teredo_server")]
    [InlineData("2001:470:1f0b:1:200:5efe:7f00:1", "isatap")]
    public void Loopback_InEveryForm_IsRefused(string literal, string? embedding) => AssertRefused(literal, "loopback", embedding);

    [Theory]
    [InlineData("0.0.0.0", null)]
    [InlineData("0.1.2.3", null)]
    [InlineData("0", null)]
    [InlineData("::", null)]
    [InlineData("[::]", null)]
    [InlineData("0:0:0:0:0:0:0:0", null)]
    [InlineData("::ffff:0.0.0.0", "ipv4_mapped")]
    [InlineData("::0.0.0.2", "ipv4_compatible")]
    [InlineData("64:ff9b::", "nat64")]
    [InlineData("2002::1", "6to4")]
    public void Unspecified_InEveryForm_IsRefused(string literal, string? embedding) => AssertRefused(literal, "unspecified", embedding);

    [Theory]
    [InlineData("10.0.0.1", null)]
    [InlineData("10.255.255.255", null)]
    [InlineData("012.0.0.1", null)]      // octal 012 is 10
    [InlineData("172.16.0.1", null)]
    [InlineData("172.31.255.255", null)]
    [InlineData("192.168.0.1", null)]
    [InlineData("192.168.255.255", null)]
    [InlineData("fec0::1", null)]
    [InlineData("::ffff:10.0.0.1", "ipv4_mapped")]
    [InlineData("::ffff:c0a8:101", "ipv4_mapped")]
    [InlineData("::10.0.0.1", "ipv4_compatible")]
    [InlineData("64:ff9b::10.0.0.1", "nat64")]
    [InlineData("64:ff9b::ac10:1", "nat64")]
    [InlineData("2002:c0a8:0101::1", "6to4")]
    [InlineData("2002:a00:1::", "6to4")]
    [InlineData(TeredoClientPrivate, "teredo_client")]
    [InlineData(TeredoServerPrivate, "teredo_server")]
    [InlineData("2001:470:1f0b:1::5efe:10.0.0.1", "isatap")]
    public void Private_InEveryForm_IsRefused(string literal, string? embedding) => AssertRefused(literal, "private", embedding);

    [Theory]
    [InlineData("169.254.0.1", null)]
    [InlineData("169.254.255.255", null)]
    [InlineData("169.254.169.253", null)]
    [InlineData("fe80::1", null)]
    [InlineData("fe80::1%2", null)]
    [InlineData("febf:ffff::1", null)]
    [InlineData("fe80::5efe:7f00:1", null)]  // the link-local range decides before the ISATAP identifier is read
    [InlineData("::ffff:169.254.1.1", "ipv4_mapped")]
    [InlineData("2002:a9fe:0101::", "6to4")]
    public void LinkLocal_InEveryForm_IsRefused(string literal, string? embedding) => AssertRefused(literal, "link_local", embedding);

    [Theory]
    [InlineData("169.254.169.254", null)]
    [InlineData("100.100.100.200", null)]
    [InlineData("168.63.129.16", null)]
    [InlineData("169.254.170.2", null)]
    [InlineData("169.254.170.23", null)]
    [InlineData("fd00:ec2::254", null)]
    [InlineData("fd00:ec2:0:0:0:0:0:254", null)]
    [InlineData("fd00:ec2::23", null)]
    [InlineData("fe80::a9fe:a9fe", null)]
    [InlineData("fe80::a9fe:a9fe%3", null)]
    [InlineData("::ffff:169.254.169.254", "ipv4_mapped")]
    [InlineData("::ffff:a9fe:a9fe", "ipv4_mapped")]
    [InlineData("::ffff:100.100.100.200", "ipv4_mapped")]
    [InlineData("::169.254.169.254", "ipv4_compatible")]
    [InlineData("64:ff9b::a9fe:a9fe", "nat64")]
    [InlineData("64:ff9b::169.254.169.254", "nat64")]
    [InlineData("64:ff9b:1::a9fe:a9fe", "nat64")]
    [InlineData("2002:a9fe:a9fe::", "6to4")]
    [InlineData("2002:a83f:8110::1", "6to4")]   // Azure WireServer
    [InlineData(TeredoClientMetadata, "teredo_client")]
    [InlineData("2001:470:1f0b:1::5efe:a9fe:a9fe", "isatap")]
    public void Metadata_InEveryForm_IsRefused(string literal, string? embedding) => AssertRefused(literal, "metadata", embedding);

    [Theory]
    [InlineData("100.64.0.1", null)]
    [InlineData("100.127.255.255", null)]
    [InlineData("100.100.100.201", null)]
    [InlineData("::ffff:100.64.0.1", "ipv4_mapped")]
    [InlineData("2002:6440:0001::", "6to4")]
    public void Cgnat_IsRefused(string literal, string? embedding) => AssertRefused(literal, "cgnat", embedding);

    [Theory]
    [InlineData("fc00::1")]
    [InlineData("fd00::1")]
    [InlineData("fd12:3456:789a::1")]
    [InlineData("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("fd00:ec2::253")]
    public void UniqueLocal_IsRefused(string literal) => AssertRefused(literal, "unique_local");

    [Theory]
    [InlineData("224.0.0.1", null)]
    [InlineData("239.255.255.250", null)]
    [InlineData("ff02::1", null)]
    [InlineData("ff05::1:3", null)]
    [InlineData("::ffff:224.0.0.251", "ipv4_mapped")]
    public void Multicast_IsRefused(string literal, string? embedding) => AssertRefused(literal, "multicast", embedding);

    [Theory]
    [InlineData("240.0.0.1", null)]
    [InlineData("254.255.255.255", null)]
    [InlineData("192.0.0.1", null)]
    [InlineData("192.0.0.170", null)]
    [InlineData("192.88.99.1", null)]
    [InlineData("100::1", null)]
    [InlineData("2001:10::1", null)]
    [InlineData("5f00::1", null)]
    [InlineData("4000::1", null)]
    [InlineData("1000::1", null)]
    [InlineData("fbff::1", null)]
    [InlineData("::ffff:0:7f00:1", null)]   // the old SIIT "IPv4-translated" form: outside global unicast
    [InlineData("64:ff9b:1:1::7f00:1", null)] // local-use NAT64 in a layout other than /96: undecodable, so refused
    [InlineData("64:ff9b:1:0:808:808::", null)]
    [InlineData("::ffff:240.0.0.1", "ipv4_mapped")]
    public void Reserved_IsRefused(string literal, string? embedding) => AssertRefused(literal, "reserved", embedding);

    [Theory]
    [InlineData("192.0.2.1", null)]
    [InlineData("198.51.100.1", null)]
    [InlineData("203.0.113.255", null)]
    [InlineData("2001:db8::1", null)]
    [InlineData("2001:db8:ffff::1", null)]
    [InlineData("3fff::1", null)]
    [InlineData("::ffff:192.0.2.1", "ipv4_mapped")]
    public void Documentation_IsRefused(string literal, string? embedding) => AssertRefused(literal, "documentation", embedding);

    [Theory]
    [InlineData("198.18.0.1", null)]
    [InlineData("198.19.255.255", null)]
    [InlineData("2001:2::1", null)]
    [InlineData("64:ff9b::c612:1", "nat64")]
    public void Benchmarking_IsRefused(string literal, string? embedding) => AssertRefused(literal, "benchmarking", embedding);

    [Theory]
    [InlineData("255.255.255.255", null)]
    [InlineData("::ffff:255.255.255.255", "ipv4_mapped")]
    public void Broadcast_IsRefused(string literal, string? embedding) => AssertRefused(literal, "broadcast", embedding);

    [Theory]
    [InlineData("1.1.1.1")]
    [InlineData("8.8.8.8")]
    [InlineData("9.9.9.9")]
    [InlineData("140.82.112.3")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2606:4700:4700::1111%3")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("2000::1")]
    [InlineData("2001:3::1")]          // next to Teredo's 2001::/32, not in it
    [InlineData("2001:db9::1")]
    [InlineData("::ffff:1.1.1.1")]
    [InlineData("::1.1.1.1")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("64:ff9b:1::808:808")]
    [InlineData("2002:808:808::1")]
    [InlineData(TeredoPublic)]
    [InlineData("2001:470:1f0b:1::5efe:808:808")]
    // Just outside each IPv4 range.
    [InlineData("1.0.0.0")]
    [InlineData("9.255.255.255")]
    [InlineData("11.0.0.0")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("126.255.255.255")]
    [InlineData("128.0.0.0")]
    [InlineData("168.63.129.15")]
    [InlineData("168.63.129.17")]
    [InlineData("169.253.255.255")]
    [InlineData("169.255.0.0")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.0")]
    [InlineData("192.0.1.255")]
    [InlineData("192.0.3.0")]
    [InlineData("192.167.255.255")]
    [InlineData("192.169.0.0")]
    [InlineData("198.17.255.255")]
    [InlineData("198.20.0.0")]
    [InlineData("198.51.99.255")]
    [InlineData("203.0.114.0")]
    [InlineData("223.255.255.255")]
    public void PublicAddresses_AreAllowed(string literal)
    {
        var verdict = Check(literal);
        Assert.True(verdict.IsAllowed, $"{literal}: {verdict.Message}");
        Assert.Same(AddressVerdict.Allowed, verdict);
    }

    [Theory]
    [InlineData("10.1.2.3", "10.1.2.0/24", true)]
    [InlineData("10.1.2.255", "10.1.2.0/24", true)]
    [InlineData("10.1.3.1", "10.1.2.0/24", false)]
    [InlineData("10.1.2.3", "10.1.2.3/32", true)]
    [InlineData("10.1.2.4", "10.1.2.3/32", false)]
    [InlineData("::ffff:10.1.2.3", "10.1.2.0/24", true)]       // the IPv4 address inside is what is allowed
    [InlineData("64:ff9b::a01:203", "10.1.2.0/24", true)]
    [InlineData("10.1.2.3", "::ffff:10.1.2.0/120", true)]      // an IPv4-mapped allowance is the IPv4 network it maps
    [InlineData("fe80::1%2", "fe80::/64", true)]
    [InlineData("fe80:0:0:1::1", "fe80::/64", false)]
    [InlineData("fd12:3456::1", "fd12:3456::/32", true)]
    [InlineData("fd12:3457::1", "fd12:3456::/32", false)]
    [InlineData("192.168.1.1", "10.0.0.0/8", false)]
    public void AnAllowedCidr_LiftsItsOwnAddressesOnly(string literal, string allowed, bool expected)
    {
        Assert.Equal(expected, Check(literal, allowed).IsAllowed);
        Assert.False(Check(literal).IsAllowed); // and without it, refused
    }

    [Theory]
    [InlineData("::ffff:127.0.0.1", "10.0.0.0/8")]
    [InlineData("127.0.0.1", "10.0.0.0/8")]
    [InlineData("::ffff:127.0.0.1", "::ffff:0:0/96")]           // allowing the embedding form lifts nothing inside it
    [InlineData("64:ff9b::7f00:1", "64:ff9b::/96")]
    [InlineData("2002:a9fe:a9fe::", "2002::/16")]
    [InlineData(TeredoClientMetadata, "2001::/32")]
    [InlineData("::127.0.0.1", "::/96")]
    [InlineData("::127.0.0.1", "::/3")]
    [InlineData("2001:470:1f0b:1::5efe:10.0.0.1", "2001:470::/32")]
    [InlineData("fd00::5efe:7f00:1", "fd00::/8")]               // an allowed unique-local prefix still carries a loopback embedding
    [InlineData("169.254.169.254", "169.254.0.0/16")]           // metadata needs its own /32
    [InlineData("fd00:ec2::254", "fd00::/8")]
    [InlineData("100.100.100.200", "100.64.0.0/10")]
    [InlineData("10.0.0.1", "0.0.0.0/0")]                       // wider than the refused range: lifts nothing
    [InlineData("10.0.0.1", "8.0.0.0/6")]
    [InlineData("fd00::1", "::/0")]
    [InlineData("127.0.0.1", "0.0.0.0/0")]
    public void AnAllowedCidr_NeverLiftsAnEmbeddingOrAWiderRange(string literal, string allowed)
    {
        var verdict = Check(literal, allowed);
        Assert.False(verdict.IsAllowed, $"{literal} allowed by {allowed}");
    }

    [Theory]
    [InlineData("169.254.169.254", "169.254.169.254/32")]
    [InlineData("::ffff:169.254.169.254", "169.254.169.254/32")]
    [InlineData("fd00:ec2::254", "fd00:ec2::254/128")]
    [InlineData("127.0.0.1", "127.0.0.0/8")]
    [InlineData("100.64.1.1", "100.64.0.0/10")]
    public void AnAllowedCidr_InsideTheRefusedRange_LiftsIt(string literal, string allowed) =>
        Assert.True(Check(literal, allowed).IsAllowed);

    [Fact]
    public void SeveralAllowances_AreEachConsidered()
    {
        string[] allowed = ["10.1.2.0/24", "192.168.7.0/24", "fd00:1::/48"];
        Assert.True(Check("10.1.2.9", allowed).IsAllowed);
        Assert.True(Check("192.168.7.9", allowed).IsAllowed);
        Assert.True(Check("fd00:1::9", allowed).IsAllowed);
        Assert.False(Check("192.168.8.9", allowed).IsAllowed);
        Assert.False(Check("169.254.169.254", allowed).IsAllowed);
    }

    [Fact]
    public void ScopeIds_AreIgnored_SoAScopedAddressIsJudgedAsItsAddress()
    {
        var scoped = IPAddress.Parse("fe80::a9fe:a9fe%7");
        Assert.NotEqual(0, scoped.ScopeId);
        Assert.Equal("metadata", AddressGuard.Check(scoped).Reason);
        Assert.Equal(AddressGuard.Check(IPAddress.Parse("fe80::a9fe:a9fe")).Reason, AddressGuard.Check(scoped).Reason);
    }

    [Fact]
    public void ARefusal_SaysWhatAndWhy_WithoutTheAddress()
    {
        var verdict = Check("::ffff:169.254.169.254");
        Assert.Equal("169.254.169.254/32", verdict.Range);
        Assert.Contains("IPv4-mapped", verdict.Message);
        Assert.Contains("metadata", verdict.Message);
        Assert.DoesNotContain("::ffff", verdict.Message);

        var plain = Check("10.9.8.7");
        Assert.Equal("refused: a private address (10.0.0.0/8, RFC 1918)", plain.Message);
        Assert.DoesNotContain("10.9.8.7", plain.Message);
    }

    [Fact]
    public void EveryTableEntry_IsReachable_AndUsesABoundedReason()
    {
        // A range shadowed by an earlier, wider one would never give its own reason: check each one's first address.
        foreach (var range in SpecialAddressRanges.IPv4.Concat(SpecialAddressRanges.IPv6))
        {
            var verdict = AddressGuard.Check(range.Network.BaseAddress);
            Assert.Contains(range.Reason, AddressRefusalReason.All);
            // ::/3 starts at ::, and 64:ff9b::/96 within it embeds IPv4; every other base address is judged by its own range.
            if (range.Network.ToString() == "::/3")
                continue;
            Assert.Equal(range.Network.ToString(), verdict.Range);
            Assert.Equal(range.Reason, verdict.Reason);
        }
    }

    [Fact]
    public void AnAllowedCheck_AllocatesNothing()
    {
        var address = IPAddress.Parse("2606:4700:4700::1111");
        var mapped = IPAddress.Parse("::ffff:1.1.1.1");
        IPNetwork[] allowed = [IPNetwork.Parse("10.1.2.0/24")];
        AddressGuard.Check(address, allowed);
        AddressGuard.Check(mapped, allowed);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            AddressGuard.Check(address, allowed);
            AddressGuard.Check(mapped, allowed);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("10.1.2.0/24", "10.1.2.0/24")]
    [InlineData("  192.168.0.0/16 ", "192.168.0.0/16")]
    [InlineData("169.254.169.254/32", "169.254.169.254/32")]
    [InlineData("fd00:1::/48", "fd00:1::/48")]
    [InlineData("fe80::/10", "fe80::/10")]
    [InlineData("::ffff:10.1.0.0/112", "10.1.0.0/16")]
    [InlineData("127.0.0.1/32", "127.0.0.1/32")]
    public void TryParseCidr_AcceptsARangeInsideARefusedRange(string text, string expected)
    {
        Assert.True(AddressGuard.TryParseCidr(text, out var network, out var error), error);
        Assert.Equal(expected, network.ToString());
        Assert.True(AddressGuard.TryParseCidr(text, out var again));
        Assert.Equal(network, again);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    [InlineData(null, "is empty")]
    [InlineData("10.1.2.0", "write 10.1.2.0/32")]
    [InlineData("10.1.2.3/24", "write 10.1.2.0/24 for the network, or 10.1.2.3/32")]
    [InlineData("fd00::1/64", "write fd00::/64 for the network, or fd00::1/128")]
    [InlineData("10.0.0.0/33", "is not a CIDR")]
    [InlineData("ten/8", "is not a CIDR")]
    [InlineData("10.0.0.0/8/8", "is not a CIDR")]
    [InlineData("fe80::%2/64", "scope id")]
    [InlineData("0.0.0.0/0", "wider than the refused range 0.0.0.0/8")]
    [InlineData("172.0.0.0/8", "wider than the refused range 172.16.0.0/12")]
    [InlineData("::/0", "embeds IPv4")]
    [InlineData("1.1.1.0/24", "is not a refused range")]
    [InlineData("2606:4700::/32", "is not a refused range")]
    [InlineData("2002::/16", "embeds IPv4")]
    [InlineData("2002:a00:1::/48", "embeds IPv4")]
    [InlineData("64:ff9b::/96", "embeds IPv4")]
    [InlineData("64:ff9b:1::/48", "embeds IPv4")]
    [InlineData("2001::/32", "embeds IPv4")]
    [InlineData("::/96", "embeds IPv4")]
    [InlineData("::/88", "embeds IPv4")]
    [InlineData("::ffff:0:0/96", "wider than the refused range 0.0.0.0/8")]
    public void TryParseCidr_RefusesWhatWouldMisleadOrLiftNothing_AndSaysHowToFixIt(string? text, string because)
    {
        Assert.False(AddressGuard.TryParseCidr(text, out _, out var error));
        Assert.Contains(because, error);
        Assert.False(AddressGuard.TryParseCidr(text, out _));
    }
}
