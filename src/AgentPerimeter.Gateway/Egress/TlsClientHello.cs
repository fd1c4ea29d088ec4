using System.Buffers;
using System.Buffers.Binary;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// Reads the first bytes a client sends into a CONNECT tunnel and, when they are a TLS ClientHello, the
/// host name it asks for (SNI). The egress proxy compares that name with the CONNECT target and the policy
/// before a byte goes upstream, so an agent cannot CONNECT to an allowed host and speak TLS to another
/// name behind the same address. Pure: no I/O, no state, no exceptions for any input.
/// </summary>
/// <remarks>
/// <para>Feed it everything received so far; it answers <see cref="ClientHelloStatus.NeedMoreData"/> until
/// the hello is complete, and never needs more than <see cref="MaxBytes"/>, so a caller's buffer is bounded.
/// Bytes after the hello's last record (a TLS 1.3 change_cipher_spec, early data) are not looked at.</para>
/// <para>A ClientHello split across several handshake records (allowed by RFC 8446 §5.1, and used by some
/// tools to slip past naive SNI filters) is reassembled; a record of another type in between is malformed.</para>
/// <para>Strict where a lenient parser and the real server could disagree about the name: one server_name
/// extension with exactly one host_name entry (RFC 6066 §3), no repeated extension type (RFC 8446 §4.2), no
/// bytes after the hello in its record, every length consistent. The name must be a DNS host name (letters,
/// digits, hyphen, underscore; labels of 1–63; at most 253 characters; not an IP literal, which RFC 6066
/// forbids in SNI); one trailing dot is dropped and the name is lower-cased.</para>
/// </remarks>
internal static class TlsClientHello
{
    /// <summary>The most a ClientHello may take on the wire, record headers included (16 KB).</summary>
    public const int MaxBytes = 16 * 1024;

    private const byte HandshakeContentType = 22;
    private const byte ClientHelloMessageType = 1;
    private const int RecordHeaderLength = 5;
    private const int HandshakeHeaderLength = 4;
    private const int MaxRecordLength = 1 << 14;
    private const int RandomLength = 32;
    private const int MaxSessionIdLength = 32;
    private const ushort ServerNameExtension = 0;
    private const ushort EncryptedClientHelloExtension = 0xfe0d;
    private const byte HostNameType = 0;
    private const int MaxHostNameLength = 253;
    private const int MaxLabelLength = 63;

    /// <summary>
    /// Whether a tunnel's first byte starts a TLS handshake record. One byte is enough to tell TLS from
    /// text protocols (HTTP, SSH's banner), which never begin with 0x16.
    /// </summary>
    public static bool LooksLikeTls(byte first) => first == HandshakeContentType;

    /// <summary>Parses the bytes received so far on a tunnel; see <see cref="ClientHelloStatus"/> for the answers.</summary>
    public static ClientHelloResult TryParse(ReadOnlySequence<byte> data)
    {
        var reader = new SequenceReader<byte>(data);
        if (!reader.TryPeek(out byte first))
            return ClientHelloResult.NeedMoreData;
        if (!LooksLikeTls(first))
            return ClientHelloResult.NotTls;

        byte[]? reassembled = null;
        try
        {
            return ReadRecords(ref reader, ref reassembled);
        }
        finally
        {
            if (reassembled is not null)
                ArrayPool<byte>.Shared.Return(reassembled);
        }
    }

    private static ClientHelloResult ReadRecords(ref SequenceReader<byte> reader, ref byte[]? buffer)
    {
        int wireEnd = 0;   // where the records announced so far end, from the first byte
        int gathered = 0;  // handshake bytes copied into buffer
        Span<byte> header = stackalloc byte[RecordHeaderLength];
        while (true)
        {
            // Another record takes a header and at least a byte: past the limit, a caller must not be told to read on.
            if (wireEnd + RecordHeaderLength >= MaxBytes)
                return ClientHelloResult.Malformed(ClientHelloProblem.TooLarge);
            int headerBytes = (int)Math.Min(reader.Remaining, RecordHeaderLength);
            reader.TryCopyTo(header[..headerBytes]);
            if (RecordHeaderProblem(header[..headerBytes]) is { } headerProblem)
                return ClientHelloResult.Malformed(headerProblem);
            if (headerBytes < RecordHeaderLength)
                return ClientHelloResult.NeedMoreData;
            int length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
            if (length == 0 || length > MaxRecordLength)
                return ClientHelloResult.Malformed(ClientHelloProblem.RecordLength);
            wireEnd += RecordHeaderLength + length;
            if (wireEnd > MaxBytes)
                return ClientHelloResult.Malformed(ClientHelloProblem.TooLarge);
            reader.Advance(RecordHeaderLength);

            // The common case, a whole hello in one record in one segment, is parsed where it lies.
            var unread = reader.UnreadSpan;
            if (gathered == 0 && unread.Length >= length && length >= HandshakeHeaderLength
                && HandshakeHeaderLength + ReadUInt24(unread[1..]) == length)
            {
                return ParseHandshake(unread[..length]);
            }

            int available = (int)Math.Min(reader.Remaining, length);
            if (available == 0)
                return ClientHelloResult.NeedMoreData;
            buffer ??= ArrayPool<byte>.Shared.Rent(MaxBytes);
            reader.TryCopyTo(buffer.AsSpan(gathered, available));
            reader.Advance(available);
            int recordStart = gathered;
            gathered += available;

            // Decide on what is known of the handshake header as soon as it arrives, not after 16 KB.
            if (buffer[0] != ClientHelloMessageType)
                return ClientHelloResult.Malformed(ClientHelloProblem.HandshakeType);
            if (gathered >= HandshakeHeaderLength)
            {
                int helloLength = HandshakeHeaderLength + ReadUInt24(buffer.AsSpan(1));
                if (helloLength > MaxBytes - RecordHeaderLength)
                    return ClientHelloResult.Malformed(ClientHelloProblem.TooLarge);
                if (recordStart + length > helloLength)
                    return ClientHelloResult.Malformed(ClientHelloProblem.TrailingData);
                if (available == length && gathered == helloLength)
                    return ParseHandshake(buffer.AsSpan(0, gathered));
            }
            if (available < length)
                return ClientHelloResult.NeedMoreData;
        }
    }

    private static string? RecordHeaderProblem(ReadOnlySpan<byte> header)
    {
        if (header.Length > 0 && header[0] != HandshakeContentType)
            return ClientHelloProblem.RecordType;
        if (header.Length > 1 && header[1] != 3)
            return ClientHelloProblem.RecordVersion;
        if (header.Length > 2 && header[2] is < 1 or > 4)
            return ClientHelloProblem.RecordVersion;
        return null;
    }

    /// <summary>A complete handshake message: its 4-byte header and exactly the body it announces.</summary>
    private static ClientHelloResult ParseHandshake(ReadOnlySpan<byte> message)
    {
        if (message[0] != ClientHelloMessageType)
            return ClientHelloResult.Malformed(ClientHelloProblem.HandshakeType);
        var hello = message[HandshakeHeaderLength..];

        if (hello.Length < 2 + RandomLength)
            return ClientHelloResult.Malformed(ClientHelloProblem.Truncated);
        if (hello[0] != 3 || hello[1] == 0)
            return ClientHelloResult.Malformed(ClientHelloProblem.HelloVersion);
        var rest = hello[(2 + RandomLength)..];
        if (!TryReadVector(ref rest, 1, out var sessionId) || sessionId.Length > MaxSessionIdLength)
            return ClientHelloResult.Malformed(ClientHelloProblem.SessionId);
        if (!TryReadVector(ref rest, 2, out var cipherSuites) || cipherSuites.Length < 2 || cipherSuites.Length % 2 != 0)
            return ClientHelloResult.Malformed(ClientHelloProblem.CipherSuites);
        if (!TryReadVector(ref rest, 1, out var compressionMethods) || compressionMethods.IsEmpty)
            return ClientHelloResult.Malformed(ClientHelloProblem.CompressionMethods);
        // TLS 1.2 and older may end the hello here: no extensions, so no name.
        if (rest.IsEmpty)
            return ClientHelloResult.Tls(null, offersEncryptedClientHello: false);
        if (!TryReadVector(ref rest, 2, out var extensions))
            return ClientHelloResult.Malformed(ClientHelloProblem.Extensions);
        if (!rest.IsEmpty)
            return ClientHelloResult.Malformed(ClientHelloProblem.TrailingData);
        return ParseExtensions(extensions);
    }

    private static ClientHelloResult ParseExtensions(ReadOnlySpan<byte> extensions)
    {
        // One bit per extension type: a duplicate is found in constant time however many extensions there are.
        Span<ulong> seen = stackalloc ulong[65536 / 64];
        string? serverName = null;
        bool encryptedClientHello = false;
        while (!extensions.IsEmpty)
        {
            if (extensions.Length < 4)
                return ClientHelloResult.Malformed(ClientHelloProblem.Extensions);
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(extensions);
            int length = BinaryPrimitives.ReadUInt16BigEndian(extensions[2..]);
            if (extensions.Length - 4 < length)
                return ClientHelloResult.Malformed(ClientHelloProblem.Extensions);
            var data = extensions.Slice(4, length);
            extensions = extensions[(4 + length)..];

            ref ulong word = ref seen[type >> 6];
            ulong bit = 1UL << (type & 63);
            if ((word & bit) != 0)
                return ClientHelloResult.Malformed(ClientHelloProblem.DuplicateExtension);
            word |= bit;

            if (type == ServerNameExtension)
            {
                if (ReadServerName(data, out serverName) is { } problem)
                    return ClientHelloResult.Malformed(problem);
            }
            else if (type == EncryptedClientHelloExtension)
            {
                encryptedClientHello = true;
            }
        }
        return ClientHelloResult.Tls(serverName, encryptedClientHello);
    }

    /// <summary>RFC 6066 §3: a ServerNameList holding exactly one host_name. Returns a problem, or null.</summary>
    private static string? ReadServerName(ReadOnlySpan<byte> data, out string? name)
    {
        name = null;
        if (!TryReadVector(ref data, 2, out var list) || !data.IsEmpty || list.Length < 3 || list[0] != HostNameType)
            return ClientHelloProblem.ServerName;
        var entries = list[1..];
        if (!TryReadVector(ref entries, 2, out var hostName))
            return ClientHelloProblem.ServerName;
        if (!entries.IsEmpty)
            return entries[0] == HostNameType ? ClientHelloProblem.MultipleServerNames : ClientHelloProblem.ServerName;
        name = NormalizeHostName(hostName);
        return name is null ? ClientHelloProblem.InvalidServerName : null;
    }

    /// <summary>The host name lower-cased without one trailing dot, or null when it is not a DNS host name.</summary>
    private static string? NormalizeHostName(ReadOnlySpan<byte> raw)
    {
        if (!raw.IsEmpty && raw[^1] == (byte)'.')
            raw = raw[..^1];
        if (raw.IsEmpty || raw.Length > MaxHostNameLength)
            return null;

        Span<char> chars = stackalloc char[MaxHostNameLength];
        int labelStart = 0;
        bool labelIsNumeric = true;
        for (int i = 0; i <= raw.Length; i++)
        {
            if (i == raw.Length || raw[i] == (byte)'.')
            {
                int labelLength = i - labelStart;
                if (labelLength is 0 or > MaxLabelLength || chars[labelStart] == '-' || chars[i - 1] == '-')
                    return null;
                // An all-numeric last label is an IPv4 literal (or no valid top-level domain), which SNI may not carry.
                if (i == raw.Length && labelIsNumeric)
                    return null;
                if (i < raw.Length)
                    chars[i] = '.';
                labelStart = i + 1;
                labelIsNumeric = true;
                continue;
            }
            char c = (char)raw[i];
            if (c is >= 'A' and <= 'Z')
                c = (char)(c + ('a' - 'A'));
            if (c is (>= 'a' and <= 'z') or '-' or '_')
                labelIsNumeric = false;
            else if (c is < '0' or > '9')
                return null;
            chars[i] = c;
        }
        return new string(chars[..raw.Length]);
    }

    /// <summary>Reads a TLS vector: a big-endian length of <paramref name="lengthBytes"/> bytes, then that many bytes.</summary>
    private static bool TryReadVector(ref ReadOnlySpan<byte> data, int lengthBytes, out ReadOnlySpan<byte> vector)
    {
        vector = default;
        if (data.Length < lengthBytes)
            return false;
        int length = lengthBytes == 1 ? data[0] : BinaryPrimitives.ReadUInt16BigEndian(data);
        if (data.Length - lengthBytes < length)
            return false;
        vector = data.Slice(lengthBytes, length);
        data = data[(lengthBytes + length)..];
        return true;
    }

    private static int ReadUInt24(ReadOnlySpan<byte> bytes) => bytes[0] << 16 | bytes[1] << 8 | bytes[2];
}
