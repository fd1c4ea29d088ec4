using System.Buffers;
using System.Security.Authentication;
using System.Text;
using AgentPerimeter.Gateway.Egress;

namespace AgentPerimeter.Gateway.UnitTests.Egress;

public sealed class TlsClientHelloTests
{
    private static ClientHelloResult Parse(byte[] bytes) => TlsClientHello.TryParse(new ReadOnlySequence<byte>(bytes));

    private static void AssertName(string? expected, ClientHelloResult result)
    {
        Assert.True(result.Status == ClientHelloStatus.Tls, $"expected Tls({expected}), got {result}");
        Assert.Equal(expected, result.ServerName);
    }

    private static void AssertMalformed(string problem, ClientHelloResult result)
    {
        Assert.True(result.Status == ClientHelloStatus.Malformed, $"expected Malformed({problem}), got {result}");
        Assert.Equal(problem, result.Problem);
    }

    // ---- real ClientHellos, as SslStream writes them ----

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("api.internal.example.org", "api.internal.example.org")]
    [InlineData("Mixed.Case.Example.COM", "mixed.case.example.com")]
    [InlineData("example.com.", "example.com")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("a.b.c.d.e.f.g.h.example.net", "a.b.c.d.e.f.g.h.example.net")]
    public async Task RealHello_NamesItsTargetHost(string targetHost, string expected) =>
        AssertName(expected, Parse(await RealClientHello.CaptureAsync(targetHost)));

    [Fact]
    public async Task RealHello_WithAUnicodeName_IsMalformedUnlessSentAsItsALabel()
    {
        // SslStream on Linux sends a Unicode TargetHost as raw UTF-8; RFC 6066 wants the xn-- form (HttpClient
        // sends that). How a server reads raw UTF-8 is its own business, so the proxy does not guess.
        var hello = await RealClientHello.CaptureAsync("bücher.example");
        if (hello.AsSpan().IndexOf("bücher"u8) >= 0)
            AssertMalformed("server_name_invalid", Parse(hello));
        else
            AssertName("xn--bcher-kva.example", Parse(hello)); // a platform whose SslStream converts it
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("2001:db8::1")]
    public async Task RealHello_ToAnIpLiteral_CarriesNoServerName(string targetHost)
    {
        var result = Parse(await RealClientHello.CaptureAsync(targetHost));
        AssertName(null, result);
        Assert.False(result.OffersEncryptedClientHello);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    [InlineData(SslProtocols.Tls12 | SslProtocols.Tls13)]
    public async Task RealHello_OfEachProtocolVersion_IsRead(SslProtocols protocols) =>
        AssertName("example.com", Parse(await RealClientHello.CaptureAsync("example.com", protocols, "h2", "http/1.1")));

    [Fact]
    public async Task RealHello_FedByteByByte_NeedsMoreDataUntilItIsComplete()
    {
        var hello = await RealClientHello.CaptureAsync("git.example.com");
        for (int length = 0; length < hello.Length; length++)
        {
            var partial = Parse(hello[..length]);
            Assert.True(partial.Status == ClientHelloStatus.NeedMoreData, $"after {length} of {hello.Length} bytes: {partial}");
        }
        AssertName("git.example.com", Parse(hello));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    public async Task RealHello_InManySegments_IsRead(int segmentLength)
    {
        var hello = await RealClientHello.CaptureAsync("segments.example.com");
        var sequence = SegmentedSequence.Split(hello, segmentLength);
        Assert.False(sequence.IsSingleSegment);
        AssertName("segments.example.com", TlsClientHello.TryParse(sequence));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4, 5)]
    [InlineData(40, 1, 1, 1)]
    [InlineData(100, 100)]
    [InlineData(50, 50, 50, 50)]
    public async Task RealHello_SplitAcrossRecords_IsReassembled(params int[] fragments)
    {
        var handshake = ClientHelloBuilder.Unframe(await RealClientHello.CaptureAsync("fragmented.example.com"));
        var records = ClientHelloBuilder.Fragment(handshake, fragments);
        AssertName("fragmented.example.com", Parse(records));
        AssertName("fragmented.example.com", TlsClientHello.TryParse(SegmentedSequence.Split(records, 3)));
        for (int length = 0; length < records.Length; length++)
            Assert.Equal(ClientHelloStatus.NeedMoreData, Parse(records[..length]).Status);
    }

    [Fact]
    public async Task RealHello_FollowedByMoreRecords_IsReadWithoutThem()
    {
        var hello = await RealClientHello.CaptureAsync("example.com");
        byte[] changeCipherSpec = [20, 3, 3, 0, 1, 1];
        AssertName("example.com", Parse([.. hello, .. changeCipherSpec, .. "junk"u8]));
    }

    [Fact]
    public async Task RealHello_InOneSegment_AllocatesLittleMoreThanTheName()
    {
        var sequence = new ReadOnlySequence<byte>(await RealClientHello.CaptureAsync("alloc.example.com"));
        TlsClientHello.TryParse(sequence);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = TlsClientHello.TryParse(sequence);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        AssertName("alloc.example.com", result);
        Assert.True(allocated < 256, $"{allocated} bytes allocated for one parse");
    }

    // ---- not TLS ----

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")]
    [InlineData("CONNECT example.com:443 HTTP/1.1\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("SSH-2.0-")]
    [InlineData("S")]
    [InlineData("\u0080\u002e\u0001\u0003\u0001")]   // an SSL 2.0-compatible hello (RFC 6176 forbids SSL 2.0)
    [InlineData("\u0017\u0003\u0003\u0000\u0001x")]   // TLS application data: not the start of a connection
    public void OtherProtocols_AreNotTls(string firstBytes)
    {
        var bytes = Encoding.Latin1.GetBytes(firstBytes);
        Assert.Same(ClientHelloResult.NotTls, Parse(bytes));
        Assert.False(TlsClientHello.LooksLikeTls(bytes[0]));
    }

    [Fact]
    public void LooksLikeTls_OnlyForAHandshakeRecord()
    {
        Assert.True(TlsClientHello.LooksLikeTls(0x16));
        Assert.Equal(1, Enumerable.Range(0, 256).Count(b => TlsClientHello.LooksLikeTls((byte)b)));
    }

    [Fact]
    public void NothingYet_NeedsMoreData()
    {
        Assert.Same(ClientHelloResult.NeedMoreData, TlsClientHello.TryParse(ReadOnlySequence<byte>.Empty));
        Assert.Same(ClientHelloResult.NeedMoreData, Parse([0x16]));
        Assert.Same(ClientHelloResult.NeedMoreData, Parse([0x16, 3, 1, 0, 200]));
    }

    // ---- hand-made hellos ----

    [Fact]
    public void AHelloWithoutExtensions_IsTlsWithoutAName() =>
        AssertName(null, Parse(new ClientHelloBuilder { Extensions = null }.Record()));

    [Fact]
    public void AHelloWithOtherExtensionsOnly_IsTlsWithoutAName() =>
        AssertName(null, Parse(new ClientHelloBuilder { Extensions = [(10, [0, 2, 0, 29]), (43, [2, 3, 4])] }.Record()));

    [Fact]
    public void TheNameIsFound_AmongOtherExtensions()
    {
        var hello = new ClientHelloBuilder
        {
            Extensions = [(10, [0, 2, 0, 29]), (0, ClientHelloBuilder.ServerNameData("mid.example.com")), (16, [0, 3, 2, (byte)'h', (byte)'2'])],
        };
        AssertName("mid.example.com", Parse(hello.Record()));
    }

    [Fact]
    public void AnEncryptedClientHello_IsReported_WithItsOuterName()
    {
        var hello = new ClientHelloBuilder { Extensions = [(0, ClientHelloBuilder.ServerNameData("public.example.com")), (0xfe0d, [0, 1, 2, 3])] };
        var result = Parse(hello.Record());
        AssertName("public.example.com", result);
        Assert.True(result.OffersEncryptedClientHello);
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("EXAMPLE.Com", "example.com")]
    [InlineData("example.com.", "example.com")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("_service.example.com", "_service.example.com")]
    [InlineData("1.2.3.example", "1.2.3.example")]
    [InlineData("123.example", "123.example")]
    [InlineData("localhost", "localhost")]
    [InlineData("a", "a")]
    public void AValidHostName_IsNormalized(string sent, string expected) =>
        AssertName(expected, Parse(ClientHelloBuilder.Naming(sent).Record()));

    [Fact]
    public void LongestValidNames_AreAccepted()
    {
        var label63 = new string('a', 63);
        AssertName($"{label63}.example", Parse(ClientHelloBuilder.Naming($"{label63}.example").Record()));
        var name253 = string.Join('.', Enumerable.Repeat(label63, 3)) + "." + new string('b', 61);
        Assert.Equal(253, name253.Length);
        AssertName(name253, Parse(ClientHelloBuilder.Naming(name253 + ".").Record()));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("example.com..")]
    [InlineData(".example.com")]
    [InlineData("a..example.com")]
    [InlineData("10.0.0.1")]             // RFC 6066: no IP literals in SNI
    [InlineData("169.254.169.254")]
    [InlineData("example.123")]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("exa mple.com")]
    [InlineData("example.com/evil")]
    [InlineData("example.com:443")]
    [InlineData("*.example.com")]
    [InlineData("user@example.com")]
    [InlineData("example.com\0.evil.com")]
    [InlineData("-lead.example.com")]
    [InlineData("trail-.example.com")]
    [InlineData("bücher.example")]        // raw UTF-8/Latin-1: a client sends the xn-- form
    [InlineData("example.com%00")]
    public void AnInvalidHostName_IsMalformed(string sent) =>
        AssertMalformed("server_name_invalid", Parse(ClientHelloBuilder.Naming(sent).Record()));

    [Fact]
    public void OverlongNames_AreMalformed()
    {
        AssertMalformed("server_name_invalid", Parse(ClientHelloBuilder.Naming(new string('a', 64) + ".example").Record()));
        var name254 = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 62);
        AssertMalformed("server_name_invalid", Parse(ClientHelloBuilder.Naming(name254).Record()));
    }

    [Fact]
    public void TwoHostNames_AreMalformed() =>
        AssertMalformed("server_name_multiple", Parse(ClientHelloBuilder.Naming("allowed.example.com", "other.example.net").Record()));

    [Fact]
    public void TwoServerNameExtensions_AreMalformed()
    {
        var hello = new ClientHelloBuilder
        {
            Extensions = [(0, ClientHelloBuilder.ServerNameData("allowed.example.com")), (0, ClientHelloBuilder.ServerNameData("other.example.net"))],
        };
        AssertMalformed("duplicate_extension", Parse(hello.Record()));
    }

    [Fact]
    public void AnyRepeatedExtension_IsMalformed()
    {
        var hello = new ClientHelloBuilder { Extensions = [(16, [0, 0]), (0, ClientHelloBuilder.ServerNameData("a.example")), (16, [0, 0])] };
        AssertMalformed("duplicate_extension", Parse(hello.Record()));
    }

    [Theory]
    [InlineData(new byte[0])]                                  // empty extension body
    [InlineData(new byte[] { 0, 0 })]                          // empty list
    [InlineData(new byte[] { 0, 5, 0, 0, 1, (byte)'a' })]      // list length beyond the body
    [InlineData(new byte[] { 0, 4, 0, 0, 1, (byte)'a', 9 })]   // list length short of the body
    [InlineData(new byte[] { 0, 4, 0, 0, 9, (byte)'a' })]      // name length beyond the list
    [InlineData(new byte[] { 0, 4, 1, 0, 1, (byte)'a' })]      // a name type other than host_name
    [InlineData(new byte[] { 0, 8, 0, 0, 1, (byte)'a', 1, 0, 1, (byte)'b' })] // host_name then another type
    [InlineData(new byte[] { 0, 1, 0 })]                       // an entry cut short
    public void ABrokenServerNameExtension_IsMalformed(byte[] data) =>
        AssertMalformed("server_name", Parse(new ClientHelloBuilder { Extensions = [(0, data)] }.Record()));

    public static TheoryData<string, byte[]> BrokenHellos => new()
    {
        { "hello_version", new ClientHelloBuilder { LegacyVersion = [2, 0] }.Record() },
        { "hello_version", new ClientHelloBuilder { LegacyVersion = [3, 0] }.Record() },
        { "session_id", new ClientHelloBuilder { SessionId = new byte[33] }.Record() },
        { "cipher_suites", new ClientHelloBuilder { CipherSuites = [] }.Record() },
        { "cipher_suites", new ClientHelloBuilder { CipherSuites = [0x13, 0x01, 0xc0] }.Record() },
        { "compression_methods", new ClientHelloBuilder { CompressionMethods = [] }.Record() },
        { "truncated", ClientHelloBuilder.Frame(ClientHelloBuilder.HandshakeOf([3, 3, 1, 2, 3])) },
        { "session_id", ClientHelloBuilder.Frame(ClientHelloBuilder.HandshakeOf([3, 3, .. new byte[32], 32, 1, 2])) },
        { "handshake_type", ClientHelloBuilder.Frame(ClientHelloBuilder.HandshakeOf(new ClientHelloBuilder().Body(), type: 2)) },
        { "record_version", ClientHelloBuilder.Frame(new ClientHelloBuilder().Handshake(), version: 0x0300) },
        { "record_version", ClientHelloBuilder.Frame(new ClientHelloBuilder().Handshake(), version: 0x0305) },
        { "record_version", ClientHelloBuilder.Frame(new ClientHelloBuilder().Handshake(), version: 0x0201) },
        { "record_length", [22, 3, 1, 0, 0] },
        { "record_length", [22, 3, 1, 0x40, 0x01] },
        // A record that holds more than the hello it starts.
        { "trailing_data", ClientHelloBuilder.Frame([.. new ClientHelloBuilder().Handshake(), 0]) },
        { "trailing_data", ClientHelloBuilder.Frame([.. new ClientHelloBuilder().Handshake(), 1, 0, 0, 0]) },
        // Extensions block: its length longer, or shorter, than what follows it.
        { "extensions", Truncate(ClientHelloBuilder.Naming("a.example").Body(), 1) },
        { "trailing_data", Append(ClientHelloBuilder.Naming("a.example").Body(), 0) },
        { "extensions", WithExtensionsBlock([0, 0, 0, 9, 1]) },
        { "extensions", WithExtensionsBlock([0, 0, 0]) },
    };

    [Theory]
    [MemberData(nameof(BrokenHellos))]
    public void ABrokenHello_IsMalformed_SayingWhere(string problem, byte[] bytes) => AssertMalformed(problem, Parse(bytes));

    [Fact]
    public void ARecordOfAnotherType_InsideAFragmentedHello_IsMalformed()
    {
        var handshake = ClientHelloBuilder.Naming("a.example").Handshake();
        byte[] records = [.. ClientHelloBuilder.Frame(handshake[..10]), .. ClientHelloBuilder.Frame([1, 0], contentType: 21), .. ClientHelloBuilder.Frame(handshake[10..])];
        AssertMalformed("record_type", Parse(records));
    }

    [Fact]
    public void AFragmentedHello_WhoseLastRecordRunsPastIt_IsMalformed()
    {
        var handshake = ClientHelloBuilder.Naming("a.example").Handshake();
        byte[] records = [.. ClientHelloBuilder.Frame(handshake[..10]), .. ClientHelloBuilder.Frame([.. handshake[10..], 0])];
        AssertMalformed("trailing_data", Parse(records));
    }

    [Fact]
    public void BadHeaders_AreRefusedAsSoonAsTheyArrive_NotAfterTheWholeHello()
    {
        AssertMalformed("record_version", Parse([22, 2]));
        AssertMalformed("record_version", Parse([22, 3, 0]));
        AssertMalformed("record_length", Parse([22, 3, 1, 0x40, 0x01]));
        AssertMalformed("handshake_type", Parse([22, 3, 1, 1, 0, 2]));
        // A hello announcing 64 KB: refused from its header, before a caller buffers it.
        AssertMalformed("too_large", Parse([22, 3, 1, 0x40, 0x00, 1, 1, 0, 0]));
        AssertMalformed("too_large", Parse([22, 3, 1, 0x10, 0x00, 1, 0, 0x40, 0x00]));
        // A record announcing more than the hello it starts (hello of 0x20 bytes in a 0x30-byte record).
        AssertMalformed("trailing_data", Parse([22, 3, 1, 0, 0x30, 1, 0, 0, 0x20]));
    }

    [Fact]
    public void AHelloFragmentedPastTheLimit_IsTooLarge()
    {
        // 1-byte records cost 6 bytes each: a 4 KB hello so split needs 24 KB on the wire.
        var hello = new ClientHelloBuilder { Extensions = [(0, ClientHelloBuilder.ServerNameData("a.example")), (21, new byte[4000])] };
        var handshake = hello.Handshake();
        AssertName("a.example", Parse(hello.Record()));
        var records = ClientHelloBuilder.Fragment(handshake, Enumerable.Repeat(1, handshake.Length - 1).ToArray());
        AssertMalformed("too_large", Parse(records));
        // What a caller that stops reading at MaxBytes holds is enough for an answer.
        AssertMalformed("too_large", Parse(records[..TlsClientHello.MaxBytes]));
    }

    [Fact]
    public void TheLargestHello_FitsMaxBytes_AndOneByteMoreDoesNot()
    {
        AssertName("a.example", Parse(PaddedHello(TlsClientHello.MaxBytes)));
        AssertMalformed("too_large", Parse(PaddedHello(TlsClientHello.MaxBytes + 1)));
    }

    [Fact]
    public async Task MutatedHellos_NeverThrow_AndNeverInventAName()
    {
        var hello = await RealClientHello.CaptureAsync("mutation.example.com");
        var random = new Random(20240611);
        for (int i = 0; i < 20_000; i++)
        {
            var mutated = (byte[])hello.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
                mutated[random.Next(5, mutated.Length)] = (byte)random.Next(256);
            var cut = random.Next(2) == 0 ? mutated : mutated[..random.Next(1, mutated.Length)];
            var result = Parse(cut);
            if (result.ServerName is { } name)
                Assert.Matches("^[a-z0-9_.-]+$", name);
        }
    }

    [Fact]
    public void MaxBytesOfAnything_IsAlwaysEnoughForAnAnswer()
    {
        var random = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            var bytes = new byte[TlsClientHello.MaxBytes];
            random.NextBytes(bytes);
            bytes[0] = 22;
            bytes[1] = 3;
            bytes[2] = (byte)random.Next(1, 5);
            Assert.NotEqual(ClientHelloStatus.NeedMoreData, Parse(bytes).Status);
        }
    }

    private static byte[] PaddedHello(int wireLength)
    {
        // A single record holds at most 2^14 bytes, so a hello at the limit goes in two records: 2 record headers,
        // the handshake header, and a body whose padding extension (21, with its 4-byte header) takes up the rest.
        int bodyWithoutPadding = ClientHelloBuilder.Naming("a.example").Body().Length;
        int padding = wireLength - 5 - 5 - 4 - bodyWithoutPadding - 4;
        var hello = new ClientHelloBuilder { Extensions = [(0, ClientHelloBuilder.ServerNameData("a.example")), (21, new byte[padding])] };
        var handshake = hello.Handshake();
        var records = ClientHelloBuilder.Fragment(handshake, handshake.Length - 100);
        Assert.Equal(wireLength, records.Length);
        return records;
    }

    private static byte[] Truncate(byte[] body, int bytes) => ClientHelloBuilder.Frame(ClientHelloBuilder.HandshakeOf(body[..^bytes]));

    private static byte[] Append(byte[] body, byte extra) => ClientHelloBuilder.Frame(ClientHelloBuilder.HandshakeOf([.. body, extra]));

    private static byte[] WithExtensionsBlock(byte[] extensions)
    {
        var body = new ClientHelloBuilder { Extensions = null }.Body();
        return ClientHelloBuilder.Frame(ClientHelloBuilder.HandshakeOf([.. body, (byte)(extensions.Length >> 8), (byte)extensions.Length, .. extensions]));
    }
}
